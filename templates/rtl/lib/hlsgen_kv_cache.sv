// hlsgen RTL library: a decode cache of L rows (hlsgen.ir.ops.decode.KVCache and LatentCache). A step
// takes one row x and its position p (one row of each stream) and writes x at row p. Rows past the
// position hold stale values, which the decode mask gives probability exactly 0.
//
// Two forms:
// - LINK = 0 (the stream form; latent caches, and any cache with several readers): every step streams
//   all L rows out, row 0 first. The next step's row is taken only after the last row of this step was
//   read, so no step sees a later step's row. The memory has one write and one registered read port
//   (block or distributed RAM, as the tools infer it); rows leave through an output FIFO of OUT_DEPTH
//   rows; a read issues only when the FIFO has room for it (credits), so row k of a step leaves 2 cycles
//   after its read issued; a read's credit returns 3 cycles after it issued, so OUT_DEPTH >= 3 keeps one
//   read a cycle.
// - LINK = 1 (read in place: the K cache of hlsgen_scores KLINK, the V cache of hlsgen_context VLINK):
//   the rows stay in LANES memories, memory s holding row r = g*LANES + s at word g, which the one
//   reader reads LANES rows a cycle through rd_addr / rd_en / rd_data (a registered read: the reader's
//   stage-1 operand register). The output stream carries one token a step (a zero row), valid the cycle
//   after the row was written; the reader takes it only with its last read of the step (the token is the
//   reader's "done"), and the next step's row is taken in that cycle at the earliest: its write lands
//   after that last read (a read returns the word before a write of the same cycle), so no read of a
//   step sees a later step's row, and the next step's token is valid the cycle after, as a ping-pong
//   bank would be. The lane and word of the written row are
//   counters: the position of a step is 0 (a new sequence) or one past the position before (the decode
//   front's positions; a refused token never reaches the cache).
module hlsgen_kv_cache #(
    parameter int L = 2,
    parameter int RW = 8,
    parameter int PW = 1,
    parameter int OUT_DEPTH = 3,
    parameter bit LINK = 1'b0,  // read in place by one reader (rd_*), a token a step on out
    parameter int LANES = 1,  // rows read a cycle (LINK)
    parameter int NG = (L + LANES - 1) / LANES,  // words of a lane's memory (LINK)
    parameter int GW = (NG > 1) ? $clog2(NG) : 1
) (
    input  logic          clk,
    input  logic          rst,
    input  logic          x_valid,
    output logic          x_ready,
    input  logic [RW-1:0] x_data,
    input  logic          pos_valid,
    output logic          pos_ready,
    input  logic [PW-1:0] pos_data,
    input  logic [GW-1:0] rd_addr,
    input  logic          rd_en,
    output logic [LANES*RW-1:0] rd_data,
    output logic          out_valid,
    input  logic          out_ready,
    output logic [RW-1:0] out_data
);
    logic busy, take, free;

    // a step: x and its position together, once the previous step is read (stream: every read issued;
    // LINK: its token taken, in this cycle at the earliest)
    assign free = !busy || (LINK && out_ready);
    assign x_ready = pos_valid && free;
    assign pos_ready = x_valid && free;
    assign take = x_valid && pos_valid && free;

    generate
        if (LINK) begin : g_link
            localparam int LW = (LANES > 1) ? $clog2(LANES) : 1;
            logic [LW-1:0] wl, sl;  // lane and word of the next position, and of this step's row
            logic [GW-1:0] wg, sg;
            assign sl = (pos_data == '0) ? '0 : wl;
            assign sg = (pos_data == '0) ? '0 : wg;
            always_ff @(posedge clk) begin
                if (rst) begin
                    busy <= 1'b0;
                    wl <= '0;
                    wg <= '0;
                end else begin
                    if (take) begin
                        busy <= 1'b1;
                        if (sl == LW'(LANES - 1)) begin
                            wl <= '0;
                            wg <= sg + 1'b1;
                        end else begin
                            wl <= sl + 1'b1;
                            wg <= sg;
                        end
                    end else if (out_ready) begin
                        busy <= 1'b0;
                    end
                end
            end
            for (genvar s = 0; s < LANES; s++) begin : g_lane
                logic [RW-1:0] mem[NG];
                logic [RW-1:0] rdq;
                // rows never written read as 0 (the RAM's init value), not X: a masked row adds 0 * row
                initial begin
                    for (int i = 0; i < NG; i++) mem[i] = '0;
                end
                always_ff @(posedge clk) begin
                    if (take && sl == LW'(s) && 32'(pos_data) < L) mem[sg] <= x_data;
                    if (rd_en) rdq <= mem[rd_addr];
                end
                assign rd_data[s*RW+:RW] = rdq;
            end
            assign out_valid = busy;
            assign out_data = '0;
        end else begin : g_stream
            localparam int AW = (L > 1) ? $clog2(L) : 1;
            localparam int CRW = $clog2(OUT_DEPTH + 2);
            localparam logic [AW-1:0] LAST = AW'(L - 1);

            logic [RW-1:0] mem[L];
            // rows never written read as 0 (the RAM's init value), not X: a masked row adds 0 * row
            initial begin
                for (int i = 0; i < L; i++) mem[i] = '0;
            end
            logic [RW-1:0] rdata;
            logic [AW-1:0] rd;
            logic [CRW-1:0] occ;
            logic issue, rvalid, pop;

            assign issue = busy && occ < CRW'(OUT_DEPTH);
            assign pop = out_valid && out_ready;
            assign rd_data = '0;

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
        end
    endgenerate

endmodule
