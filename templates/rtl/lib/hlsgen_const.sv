// hlsgen RTL library: a typed constant tensor (hlsgen.ir.ops.tensor.Constant: a position table, a class
// token), ROWS rows of N values of W bits, INIT holding row r at bits [r*N*W +: N*W]. A source without an
// input, like hlsgen_mask without one: it repeats the ROWS rows forever, one a cycle, for the block that
// reads it row by row beside another stream.
module hlsgen_const #(
    parameter int W = 8,
    parameter int N = 1,
    parameter int ROWS = 1,
    parameter logic [ROWS*N*W-1:0] INIT = '0
) (
    input  logic           clk,
    input  logic           rst,
    output logic           out_valid,
    input  logic           out_ready,
    output logic [N*W-1:0] out_data
);
    localparam int RW = $clog2(ROWS + 1);
    logic [RW-1:0] rc;
    logic take;

    assign take = !out_valid || out_ready;

    always_ff @(posedge clk) begin
        if (take) out_data <= INIT[32'(rc)*N*W+:N*W];
    end

    always_ff @(posedge clk) begin
        if (rst) out_valid <= 1'b0;
        else out_valid <= 1'b1;
    end

    always_ff @(posedge clk) begin
        if (rst) rc <= '0;
        else if (take) rc <= (rc == RW'(ROWS - 1)) ? '0 : rc + 1'b1;
    end
endmodule
