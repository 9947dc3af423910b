// hlsgen RTL library: the sliding window of a one-dimensional convolution (hlsgen.ir.ops.conv.Conv1D,
// stride 1), feeding hlsgen_linear: a sequence of T rows of C values becomes T + PL + PR - K + 1 rows of
// K * C values, output row t holding input rows t - PL ... t - PL + K - 1 (zeros outside the sequence),
// the first in the low values (kernel-position-major, as Conv1D.windows). The window is a shift
// register of K rows that steps through the P = PL + T + PR positions of the padded sequence, one a
// cycle: a padding position shifts in zeros without an input, a real one takes an input row. From
// position K - 1 on, each step leaves the window as an output row; every step waits until the output
// register is empty or being emptied. The values keep their type: no cast.
module hlsgen_window #(
    parameter int W = 8,
    parameter int C = 1,
    parameter int T = 4,
    parameter int K = 3,
    parameter int PL = 1,
    parameter int PR = 1
) (
    input  logic             clk,
    input  logic             rst,
    input  logic             in_valid,
    output logic             in_ready,
    input  logic [  C*W-1:0] in_data,
    output logic             out_valid,
    input  logic             out_ready,
    output logic [K*C*W-1:0] out_data
);
    localparam int P = PL + T + PR;
    localparam int PW = $clog2(P + 1);
    logic [PW-1:0] pc;
    logic pad, free, step;
    logic [C*W-1:0] row;

    generate
        if (PL == 0) begin : g_nolead
            assign pad = pc >= PW'(PL + T);
        end else begin : g_lead
            assign pad = pc < PW'(PL) || pc >= PW'(PL + T);
        end
    endgenerate
    assign free = !out_valid || out_ready;
    assign step = free && (pad || in_valid);
    assign in_ready = free && !pad;
    assign row = pad ? '0 : in_data;

    generate
        if (K > 1) begin : g_shift
            always_ff @(posedge clk) begin
                if (step) out_data <= {row, out_data[K*C*W-1:C*W]};
            end
        end else begin : g_one
            always_ff @(posedge clk) begin
                if (step) out_data <= row;
            end
        end
    endgenerate

    always_ff @(posedge clk) begin
        if (rst) begin
            pc <= '0;
            out_valid <= 1'b0;
        end else begin
            if (step) pc <= (pc == PW'(P - 1)) ? '0 : pc + 1'b1;
            if (step && pc >= PW'(K - 1)) out_valid <= 1'b1;
            else if (out_ready) out_valid <= 1'b0;
        end
    end
endmodule
