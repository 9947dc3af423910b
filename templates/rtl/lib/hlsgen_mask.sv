// hlsgen RTL library: the attention mask, TQ rows of TK bits (1 = attend), as hlsgen.ir.ops.attention.Mask.
// Causal: query i attends key j when j <= i + OFFSET. Without an input (HAS_INPUT = 0) the module is a
// source that repeats the TQ causal rows forever, one a cycle; with an input it ANDs each input row with
// the causal row (CAUSAL = 1) or passes it through (CAUSAL = 0), one row a cycle, registered.
module hlsgen_mask #(
    parameter int TQ = 2,
    parameter int TK = 2,
    parameter bit HAS_INPUT = 1'b0,
    parameter bit CAUSAL = 1'b1,
    parameter int OFFSET = 0
) (
    input  logic          clk,
    input  logic          rst,
    input  logic          in_valid,
    output logic          in_ready,
    input  logic [TK-1:0] in_data,
    output logic          out_valid,
    input  logic          out_ready,
    output logic [TK-1:0] out_data
);
    localparam int QW = $clog2(TQ + 1);
    logic [QW-1:0] qc;
    logic [TK-1:0] causal_row;
    logic take;

    always_comb begin
        for (int j = 0; j < TK; j++) causal_row[j] = !CAUSAL || (j <= int'(qc) + OFFSET);
    end

    generate
        if (HAS_INPUT) begin : g_in
            assign in_ready = !out_valid || out_ready;
            assign take = in_valid && in_ready;
            always_ff @(posedge clk) begin
                if (take) out_data <= in_data & causal_row;
            end
            always_ff @(posedge clk) begin
                if (rst) out_valid <= 1'b0;
                else if (take) out_valid <= 1'b1;
                else if (out_ready) out_valid <= 1'b0;
            end
        end else begin : g_src
            assign in_ready = 1'b0;
            assign take = !out_valid || out_ready;
            always_ff @(posedge clk) begin
                if (take) out_data <= causal_row;
            end
            always_ff @(posedge clk) begin
                if (rst) out_valid <= 1'b0;
                else out_valid <= 1'b1;
            end
        end
    endgenerate

    always_ff @(posedge clk) begin
        if (rst) qc <= '0;
        else if (take) qc <= (qc == QW'(TQ - 1)) ? '0 : qc + 1'b1;
    end
endmodule
