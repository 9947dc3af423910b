// hlsgen RTL library: a synchronous first-word-fall-through FIFO of rows (valid/ready on both sides).
// A row written in cycle c is visible at the output in cycle c+1. DEPTH >= 1 rows.
module hlsgen_fifo #(
    parameter int W = 8,
    parameter int DEPTH = 2
) (
    input  logic         clk,
    input  logic         rst,
    input  logic         in_valid,
    output logic         in_ready,
    input  logic [W-1:0] in_data,
    output logic         out_valid,
    input  logic         out_ready,
    output logic [W-1:0] out_data
);
    localparam int AW = (DEPTH > 1) ? $clog2(DEPTH) : 1;
    localparam int CW = $clog2(DEPTH + 1);
    localparam logic [AW-1:0] LAST = AW'(DEPTH - 1);
    localparam logic [CW-1:0] FULL = CW'(DEPTH);

    logic [W-1:0] mem[DEPTH];
    logic [AW-1:0] wr, rd;
    logic [CW-1:0] count;
    logic push, pop;

    assign in_ready = count != FULL;
    assign out_valid = count != '0;
    assign out_data = mem[rd];
    assign push = in_valid & in_ready;
    assign pop = out_valid & out_ready;

    always_ff @(posedge clk) begin
        if (push) mem[wr] <= in_data;
    end

    always_ff @(posedge clk) begin
        if (rst) begin
            wr <= '0;
            rd <= '0;
            count <= '0;
        end else begin
            if (push) wr <= (wr == LAST) ? '0 : wr + 1'b1;
            if (pop) rd <= (rd == LAST) ? '0 : rd + 1'b1;
            if (push & ~pop) count <= count + 1'b1;
            else if (pop & ~push) count <= count - 1'b1;
        end
    end
endmodule
