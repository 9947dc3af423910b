// hlsgen RTL library: a decode cache of L rows (hlsgen.ir.ops.decode.KVCache and LatentCache). A step
// takes one row x and its position p (one row of each stream), writes x at row p, then streams all L
// rows out, row 0 first (rows past the position hold stale values, which the decode mask gives
// probability exactly 0). The next step's row is taken only after the last row of this step was read,
// so no step sees a later step's row.
//
// The memory has one write and one registered read port (block or distributed RAM, as the tools infer
// it; nothing else reads it). Rows leave through an output FIFO of OUT_DEPTH rows; a read issues only
// when the FIFO has room for it (credits), so row k of a step leaves 2 cycles after its read issued; a
// read's credit returns 3 cycles after it issued, so OUT_DEPTH >= 3 keeps one read a cycle.
module hlsgen_kv_cache #(
    parameter int L = 2,
    parameter int RW = 8,
    parameter int PW = 1,
    parameter int OUT_DEPTH = 3
) (
    input  logic          clk,
    input  logic          rst,
    input  logic          x_valid,
    output logic          x_ready,
    input  logic [RW-1:0] x_data,
    input  logic          pos_valid,
    output logic          pos_ready,
    input  logic [PW-1:0] pos_data,
    output logic          out_valid,
    input  logic          out_ready,
    output logic [RW-1:0] out_data
);
    localparam int AW = (L > 1) ? $clog2(L) : 1;
    localparam int CRW = $clog2(OUT_DEPTH + 2);
    localparam logic [AW-1:0] LAST = AW'(L - 1);

    logic [RW-1:0] mem[L];
    // rows never written read as 0 (the RAM's init value), not X: a masked row adds 0 * row to a context
    initial begin
        for (int i = 0; i < L; i++) mem[i] = '0;
    end
    logic [RW-1:0] rdata;
    logic [AW-1:0] rd;
    logic [CRW-1:0] occ;
    logic busy, take, issue, rvalid, pop;

    // a step: x and its position together, while no read-out is pending
    assign x_ready = pos_valid && !busy;
    assign pos_ready = x_valid && !busy;
    assign take = x_valid && pos_valid && !busy;
    assign issue = busy && occ < CRW'(OUT_DEPTH);
    assign pop = out_valid && out_ready;

    always_ff @(posedge clk) begin
        if (take && 32'(pos_data) < L) mem[AW'(pos_data)] <= x_data;
        if (issue) rdata <= mem[rd];
    end

    always_ff @(posedge clk) begin
        if (rst) begin
            busy <= 1'b0;
            rd <= '0;
            rvalid <= 1'b0;
            occ <= '0;
        end else begin
            rvalid <= issue;
            if (take) begin
                busy <= 1'b1;
                rd <= '0;
            end else if (issue) begin
                rd <= rd + 1'b1;
                if (rd == LAST) busy <= 1'b0;
            end
            if (issue && !pop) occ <= occ + 1'b1;
            else if (pop && !issue) occ <= occ - 1'b1;
        end
    end

    hlsgen_fifo #(
        .W(RW),
        .DEPTH(OUT_DEPTH)
    ) u_out (
        .clk(clk),
        .rst(rst),
        .in_valid(rvalid),
        .in_ready(),
        .in_data(rdata),
        .out_valid(out_valid),
        .out_ready(out_ready),
        .out_data(out_data)
    );

endmodule
