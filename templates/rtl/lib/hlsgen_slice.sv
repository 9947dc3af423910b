// hlsgen RTL library: a slice (hlsgen.ir.ops.tensor.Slice: x[:, 0] takes token 0, x[..., a:b] features).
// The ROWS input rows of a sequence are seen as OUTER x A x INNER rows (A: the sliced axis); a row whose
// index along A lies in [START, STOP) goes on, the others are taken and dropped (no output needed). Of a
// kept row, the ON values from C0 on leave. The values keep their type: no cast. Kept rows go into an
// output register, one a cycle; dropped rows are taken one a cycle whatever the output does.
module hlsgen_slice #(
    parameter int W = 8,
    parameter int N = 4,
    parameter int ON = 4,
    parameter int C0 = 0,
    parameter int A = 1,
    parameter int INNER = 1,
    parameter int START = 0,
    parameter int STOP = 1
) (
    input  logic            clk,
    input  logic            rst,
    input  logic            in_valid,
    output logic            in_ready,
    input  logic [ N*W-1:0] in_data,
    output logic            out_valid,
    input  logic            out_ready,
    output logic [ON*W-1:0] out_data
);
    localparam int IW = $clog2(INNER + 1);
    localparam int AW = $clog2(A + 1);
    logic [IW-1:0] ic;
    logic [AW-1:0] ac;
    logic keep, take;

    generate
        if (START == 0) begin : g_from0
            assign keep = ac < AW'(STOP);
        end else begin : g_from
            assign keep = ac >= AW'(START) && ac < AW'(STOP);
        end
    endgenerate
    assign in_ready = !keep || !out_valid || out_ready;
    assign take = in_valid && in_ready;

    always_ff @(posedge clk) begin
        if (take && keep) out_data <= in_data[C0*W+:ON*W];
    end

    always_ff @(posedge clk) begin
        if (rst) begin
            out_valid <= 1'b0;
            ic <= '0;
            ac <= '0;
        end else begin
            if (take && keep) out_valid <= 1'b1;
            else if (out_ready) out_valid <= 1'b0;
            if (take) begin
                if (ic == IW'(INNER - 1)) begin
                    ic <= '0;
                    ac <= (ac == AW'(A - 1)) ? '0 : ac + 1'b1;
                end else begin
                    ic <= ic + 1'b1;
                end
            end
        end
    end
endmodule
