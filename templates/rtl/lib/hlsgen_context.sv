// hlsgen RTL library: attention context C[q, h*DV + d] = cast(sum_k P[h, q, k] V[k, g*DV + d]),
// g = h / (H / HKV), for a stream of probability rows (H*TQ per sequence, head-major, TK values each) and
// value rows (TK per sequence); the output is TQ rows of H*DV values, as hlsgen.ir.ops.attention.Context
// lays them out.
//
// V of a sequence is written into one of two banks (ping-pong). PE x SIMD multipliers: PE of the DV
// outputs times SIMD keys per cycle, so a probability row takes NOG * NKG cycles (NOG = ceil(DV / PE),
// NKG = ceil(TK / SIMD)). Heads 0..H-2 of a query are kept in a row buffer; the row leaves when its last
// head is done, 5 + TS cycles after the last operand read (operand registers, products, the TS stages
// of the SIMD sum tree (hlsgen_mac, LV) and OREG's operand register, accumulate, the cast, the row
// buffer). A new sequence starts one cycle after the last row of the previous one. The sum is exact; the only rounding is the cast to
// the output type.
//
// The V bank: with VRAM = 0 a register array of 2*TK rows read SIMD rows a cycle through multiplexers
// (for a few rows per lane); with VRAM = 1, SIMD memories (hlsgen_ram, block RAM or LUTRAM): memory s
// holds rows r = g*SIMD + s at word g (ping-pong: + NKG for the second bank), written one row a cycle,
// read with a registered read whose register is the stage-1 operand register, so that the latency is
// the same; the head and output group are then picked from the registered rows.
//
// The output row buffer (TQ rows of H heads): one memory per slot (head h, output group o) of TQ words
// of the slot's values, written with the slot's result only (no read-modify-write, no multiplexer picks
// a slot), but for the last slot (the last head's last output group): its result completes the row in
// the cycle it leaves and is never stored, and every other slot of that row was written in an earlier
// cycle. With ORAM = 0 the memories are read asynchronously at the query of the result (stage 4,
// LUTRAM); with ORAM = 1 they are hlsgen_ram read at stage 3 (a registered, write-first read: the row
// the next result completes), so that the row is whole at stage 4 either way.
//
// The probability row: with PGRP = 0 a register of the whole row (pcur, loaded as the row is taken),
// its SIMD-key groups picked by a multiplexer; with PGRP = 1 it stays in its producer's memory
// (hlsgen_softmax GOUT, whose lanes are SIMD) and is read in place a group at a time: p_gaddr (the key
// group), p_gre (= issue) and p_gdata, the producer's registered read, which is the stage-1 operand
// register. The row is taken with the same handshake and cycles; p_data is not read.
//
// With VLINK = 1 (a decode top's V cache, hlsgen_kv_cache LINK) there is no V bank: the TK value rows
// stay in the cache's SIMD memories and are read in place, SIMD rows a cycle, as from the VRAM bank
// (v_gaddr = the key group, v_gre = issue, v_gdata the cache's registered read, the stage-1 operand
// register). The v stream then carries one token a sequence, the cache's "rows written": a sequence's
// first probability row is taken only while its token is valid, and the token is taken with the
// sequence's last issue (the cache's "done"), so the cache writes no row while a sequence reads it.
module hlsgen_context #(
    parameter int TQ = 2,
    parameter int TK = 2,
    parameter int H = 1,
    parameter int HKV = 1,
    parameter int DV = 2,
    parameter int PE = 1,
    parameter int SIMD = 1,
    parameter int PW_ = 8,
    parameter bit PS = 1'b1,
    parameter int VW = 8,
    parameter bit VS = 1'b1,
    parameter int ACC_F = 0,
    parameter int YW = 8,
    parameter int YF = 0,
    parameter bit YS = 1'b1,
    parameter int Y_RND = 0,
    parameter int Y_OVF = 0,
    parameter int OUT_DEPTH = 2,
    parameter int LV = 0,  // levels of the SIMD sum tree between registers (0: no tree registers)
    parameter bit OREG = 1'b0,  // operands registered before the products (hlsgen_mac): a stage more
    parameter bit VRAM = 1'b0,  // the V bank in SIMD memories (hlsgen_ram) instead of a register array
    parameter bit ORAM = 1'b0,  // the output row buffer in H * NOG memories (hlsgen_ram) of TQ rows
    parameter bit PGRP = 1'b0,  // the probability row read in place from its producer (p_g*), no pcur
    parameter bit VLINK = 1'b0,  // the V rows read in place from the decode cache (v_g*), no V bank
    parameter int KGW_ = ((TK + SIMD - 1) / SIMD > 1) ? $clog2((TK + SIMD - 1) / SIMD) : 1
) (
    input  logic                  clk,
    input  logic                  rst,
    input  logic                  p_valid,
    output logic                  p_ready,
    input  logic [TK*PW_-1:0]     p_data,
    output logic [KGW_-1:0]       p_gaddr,
    output logic                  p_gre,
    input  logic [SIMD*PW_-1:0]   p_gdata,
    input  logic                  v_valid,
    output logic                  v_ready,
    input  logic [HKV*DV*VW-1:0]  v_data,
    output logic [KGW_-1:0]       v_gaddr,
    output logic                  v_gre,
    input  logic [SIMD*HKV*DV*VW-1:0] v_gdata,
    output logic                  out_valid,
    input  logic                  out_ready,
    output logic [H*DV*YW-1:0]    out_data
);
    localparam int NOG = (DV + PE - 1) / PE;
    localparam int NKG = (TK + SIMD - 1) / SIMD;
    localparam int PE_ = PW_ + (PS ? 0 : 1);
    localparam int VE = VW + (VS ? 0 : 1);
    localparam int MW = PE_ + VE;
    localparam int AW = MW + $clog2(NKG * SIMD + 1) + 1;
    localparam int CRW = $clog2(OUT_DEPTH + 2);
    localparam int TQW = (TQ > 1) ? $clog2(TQ) : 1;
    localparam int TKW = $clog2(TK + 1);
    localparam int HW = $clog2(H + 1);
    localparam int OGW = (NOG > 1) ? $clog2(NOG) : 1;
    localparam int KGW = (NKG > 1) ? $clog2(NKG) : 1;
    localparam int SLOT = NOG * PE * YW;  // one head's outputs, padded to whole groups
    localparam logic [OGW-1:0] OG_LAST = OGW'(NOG - 1);
    localparam int TLS = (SIMD > 1) ? $clog2(SIMD) : 0;
    // stages of the SIMD sum tree, and the operand register (OREG)
    localparam int TS = ((LV > 0) ? (TLS + LV - 1) / ((LV > 0) ? LV : 1) : 0) + int'(OREG);

    // ---- receive V into two banks ----------------------------------------------------------------------
    logic [1:0] full;
    logic wb, rb;
    logic [TKW-1:0] vcnt;
    logic v_hs, seq_done;

    // VLINK: the cache's token is taken with the sequence's last issue
    assign v_ready = VLINK ? seq_done : !full[wb];
    assign v_hs = v_valid && v_ready && !VLINK;

    always_ff @(posedge clk) begin
        if (rst) begin
            full <= '0;
            wb <= 1'b0;
            vcnt <= '0;
        end else begin
            if (v_hs) begin
                if (vcnt == TKW'(TK - 1)) begin
                    vcnt <= '0;
                    full[wb] <= 1'b1;
                    wb <= ~wb;
                end else begin
                    vcnt <= vcnt + 1'b1;
                end
            end
            if (seq_done) full[rb] <= 1'b0;
        end
    end

    // ---- the current probability row and the issue counters -------------------------------------------
    logic cur_valid;
    logic [HW-1:0] hc, gc;
    logic [TQW-1:0] qc;
    logic [OGW-1:0] og;
    logic [KGW-1:0] kg;
    logic [CRW-1:0] occ, occ_next;
    logic room;  // occ < OUT_DEPTH, a register beside occ
    logic row_start, issue, last_k, last_o, row_end, last_row, hlast, fifo_pop;

    // k0 / last_k, o0 / last_o: kg == 0, kg == NKG - 1, og == 0, og == NOG - 1, registers kept beside the
    // counts (at T 1024 the key group count has 8 bits: its compares were on the issue path)
    logic k0, o0;
    assign row_start = k0 && o0;
    assign issue = cur_valid && (!row_start || !hlast || room);
    // a row of more than one issue does not end where it starts (last_k && last_o imply !row_start):
    // its end does not wait for room, which keeps room off the p_ready and cur_valid paths
    assign row_end = (NKG * NOG > 1 ? cur_valid : issue) && last_k && last_o;
    assign seq_done = row_end && last_row;
    assign p_ready = (VLINK ? v_valid : full[rb]) && (!cur_valid || (row_end && !last_row));

    hlsgen_headseq #(
        .TQ(TQ),
        .H(H),
        .HKV(HKV),
        .QCW(TQW),
        .HW(HW)
    ) u_seq (
        .clk(clk),
        .rst(rst),
        .step(row_end),
        .qc(qc),
        .hc(hc),
        .gc(gc),
        .hlast(hlast),
        .last(last_row),
        .rb(rb)
    );

    logic occ_inc;
    assign occ_inc = issue && row_start && hlast;
    assign occ_next = occ + CRW'(occ_inc) - CRW'(fifo_pop);
    assign p_gaddr = KGW_'(kg);
    assign p_gre = issue;

    always_ff @(posedge clk) begin
        if (rst) begin
            cur_valid <= 1'b0;
            og <= '0;
            kg <= '0;
            {k0, last_k, o0, last_o} <= {1'b1, NKG == 1, 1'b1, NOG == 1};
            occ <= '0;
            room <= 1'b1;
        end else begin
            if (p_valid && p_ready) cur_valid <= 1'b1;
            else if (row_end) cur_valid <= 1'b0;
            if (issue) begin
                kg <= last_k ? '0 : kg + 1'b1;
                {k0, last_k} <= {last_k, NKG == 1 || (!last_k && kg == KGW'(NKG - 2))};
                if (last_k) begin
                    og <= last_o ? '0 : og + 1'b1;
                    {o0, last_o} <= {last_o, NOG == 1 || (!last_o && og == OGW'(NOG - 2))};
                end
            end
            occ <= occ_next;
            // occ_next < OUT_DEPTH from occ's compares (occ <= OUT_DEPTH), not through the sum
            if (occ_inc && !fifo_pop) room <= occ < CRW'(OUT_DEPTH - 1);
            else if (fifo_pop && !occ_inc) room <= 1'b1;
        end
    end

    // ---- the V bank and the operands: SIMD probabilities, SIMD x PE values (zero beyond TK and DV) ----
    localparam int VD = 2 * NKG;  // words of a lane's memory (VRAM)
    localparam int VAW = (VD > 1) ? $clog2(VD) : 1;
    localparam int SW = (SIMD > 1) ? $clog2(SIMD) : 1;
    logic v1, first1, last1, v2, first2, last2, v2d, last2d, v3, last3;
    logic [OGW-1:0] o1, o2, o2d, o3;
    logic [HW-1:0] h1, h2, h2d, h3;
    logic [TQW-1:0] q1, q2, q2d, q3;
    logic [SIMD*PW_-1:0] pg1;
    logic [PE*SIMD*VW-1:0] vg, vg1;
    logic [HW-1:0] gsel;  // the head group, output group and key group the rows are picked by
    logic [OGW-1:0] osel;
    logic [KGW-1:0] ksel;

    logic [HKV*DV*VW-1:0] vraw[SIMD];  // the V rows of the SIMD lanes

    generate
        if (VLINK) begin : g_vlink
            logic [HW-1:0] g1;  // the head group and key group of the read, beside the read register
            logic [KGW-1:0] k1;
            always_ff @(posedge clk) begin
                if (issue) begin
                    g1 <= gc;
                    k1 <= kg;
                end
            end
            for (genvar s = 0; s < SIMD; s++) begin : g_lane
                assign vraw[s] = v_gdata[s*HKV*DV*VW+:HKV*DV*VW];
            end
            assign v_gaddr = KGW_'(kg);
            assign v_gre = issue;
            assign gsel = g1;
            assign osel = o1;
            assign ksel = k1;
            assign vg1 = vg;  // the cache's read registers are stage 1
        end else if (VRAM) begin : g_vram
            assign v_gaddr = '0;
            assign v_gre = 1'b0;
            logic [SW-1:0] ws;  // the lane (memory) and key group of the next V row
            logic [KGW-1:0] wg;
            logic [HW-1:0] g1;  // the head group and key group of the read, beside the read register
            logic [KGW-1:0] k1;
            always_ff @(posedge clk) begin
                if (issue) begin
                    g1 <= gc;
                    k1 <= kg;
                end
            end
            always_ff @(posedge clk) begin
                if (rst) begin
                    ws <= '0;
                    wg <= '0;
                end else if (v_hs) begin
                    if (vcnt == TKW'(TK - 1) || ws == SW'(SIMD - 1)) ws <= '0;
                    else ws <= ws + 1'b1;
                    if (vcnt == TKW'(TK - 1)) wg <= '0;
                    else if (ws == SW'(SIMD - 1)) wg <= wg + 1'b1;
                end
            end
            for (genvar s = 0; s < SIMD; s++) begin : g_bank
                hlsgen_ram #(
                    .W(HKV * DV * VW), .DEPTH(VD)
                ) u_bank (
                    .clk(clk),
                    .we(v_hs && ws == SW'(s)),
                    .waddr(VAW'(32'(wb) * NKG + 32'(wg))),
                    .wdata(v_data),
                    .re(issue),
                    .raddr(VAW'(32'(rb) * NKG + 32'(kg))),
                    .rdata(vraw[s])
                );
            end
            assign gsel = g1;
            assign osel = o1;
            assign ksel = k1;
            assign vg1 = vg;  // the memories' read registers are stage 1
        end else begin : g_vreg
            assign v_gaddr = '0;
            assign v_gre = 1'b0;
            logic [HKV*DV*VW-1:0] vbuf[2*TK];
            always_ff @(posedge clk) begin
                if (v_hs) vbuf[{31'd0, wb} * TK + 32'(vcnt)] <= v_data;
                if (issue) vg1 <= vg;
            end
            for (genvar s = 0; s < SIMD; s++) begin : g_lane
                assign vraw[s] = vbuf[{31'd0, rb} * TK + 32'(kg) * SIMD + s];
            end
            assign gsel = gc;
            assign osel = og;
            assign ksel = kg;
        end
        for (genvar s = 0; s < SIMD; s++) begin : g_vrow
            logic [HKV*DV*VW-1:0] vrow;
            logic [NOG*PE*VW-1:0] vhead;
            logic [PE*VW-1:0] vsel;
            logic in_range;
            assign in_range = 32'(ksel) * SIMD + s < TK;
            assign vrow = in_range ? vraw[s] : '0;
            // the head group and the output group (hlsgen_pick: variable part selects gsel*DV*VW and
            // osel*PE*VW would be multipliers to synthesis)
            logic [DV*VW-1:0] vg_row;
            hlsgen_pick #(.G(HKV), .W(DV * VW), .SW(HW)) u_vg (.x(vrow), .sel(gsel), .y(vg_row));
            assign vhead = (NOG * PE * VW)'(vg_row);
            hlsgen_pick #(.G(NOG), .W(PE * VW), .SW(OGW)) u_vo (.x(vhead), .sel(osel), .y(vsel));
            for (genvar p = 0; p < PE; p++) begin : g_pe
                assign vg[(p*SIMD+s)*VW+:VW] = vsel[p*VW+:VW];
            end
        end
    endgenerate

    // ---- stage 1: operand registers ----------------------------------------------------------------------
    // the stage-1 probabilities: the producer's read register (PGRP), or the group of the row register
    generate
        if (PGRP) begin : g_pgrp
            assign pg1 = p_gdata;
        end else begin : g_preg
            logic [NKG*SIMD*PW_-1:0] pcur;
            always_ff @(posedge clk) begin
                if (p_valid && p_ready) pcur <= (NKG * SIMD * PW_)'(p_data);
                if (issue) pg1 <= pcur[kg*SIMD*PW_+:SIMD*PW_];
            end
        end
    endgenerate

    always_ff @(posedge clk) begin
        if (issue) begin
            first1 <= k0;
            last1 <= last_k;
            o1 <= og;
            h1 <= hc;
            q1 <= qc;
        end
        if (v1) begin
            first2 <= first1;
            last2 <= last1;
            o2 <= o1;
            h2 <= h1;
            q2 <= q1;
        end
        if (v2d) begin
            last3 <= last2d;
            o3 <= o2d;
            h3 <= h2d;
            q3 <= q2d;
        end
    end

    always_ff @(posedge clk) begin
        if (rst) begin
            v1 <= 1'b0;
            v2 <= 1'b0;
            v3 <= 1'b0;
        end else begin
            v1 <= issue;
            v2 <= v1;
            v3 <= v2d;
        end
    end

    // ---- stages 2 and 3: products, (the TS stages of the SIMD sum tree,) accumulate ----------------------
    logic [PE*AW-1:0] acc;

    hlsgen_mac #(
        .PE(PE), .SIMD(SIMD), .XW(PW_), .XS(PS), .WW(VW), .WS(VS), .AW(AW), .LV(LV), .OREG(OREG)
    ) u_mac (
        .clk(clk),
        .mul_en(v1),
        .acc_en(v2),
        .first(first2),
        .x(pg1),
        .w(vg1),
        .acc(acc)
    );

    // the group's tags beside the SIMD sum tree
    hlsgen_vdelay #(
        .W(1 + OGW + HW + TQW), .D(TS)
    ) u_tags (
        .clk(clk),
        .rst(rst),
        .v(v2),
        .x({last2, o2, h2, q2}),
        .vy(v2d),
        .y({last2d, o2d, h2d, q2d})
    );

    // ---- stage 4: the cast, registered; stage 5: into the row buffer, a row leaves with its last head --
    logic [H*SLOT-1:0] onext;
    logic [PE*YW-1:0] yslots, y4;
    logic [H*DV*YW-1:0] orow;
    logic v4, last4, fifo_push;
    logic [OGW-1:0] o4;
    logic [HW-1:0] h4;
    logic [TQW-1:0] q4;

    generate
        for (genvar p = 0; p < PE; p++) begin : g_out
            hlsgen_cast #(
                .IW(AW), .IF(ACC_F), .IS(1'b1), .OW(YW), .OF(YF), .OS(YS), .RND(Y_RND), .OVF(Y_OVF)
            ) u_cast (
                .x(acc[p*AW+:AW]),
                .y(yslots[p*YW+:YW])
            );
        end
        for (genvar h = 0; h < H; h++) begin : g_compact
            assign orow[h*DV*YW+:DV*YW] = onext[h*SLOT+:DV*YW];
        end
    endgenerate

    always_ff @(posedge clk) begin
        y4 <= yslots;
        last4 <= last3;
        o4 <= o3;
        h4 <= h3;
        q4 <= q3;
    end

    // the row's last result (the last group of the last head), a flag beside stage 4: no compare of
    // o4 / h4 before the output FIFO's count
    logic push4;
    always_ff @(posedge clk) begin
        if (rst) begin
            v4 <= 1'b0;
            push4 <= 1'b0;
        end else begin
            v4 <= v3;
            push4 <= v3 && last3 && o3 == OG_LAST && h3 == HW'(H - 1);
        end
    end

    generate
        for (genvar h = 0; h < H; h++) begin : g_h
            for (genvar o = 0; o < NOG; o++) begin : g_o
                // the slot's values (the last output group of a head may be partly padding)
                localparam int SV = ((DV - o * PE < PE) ? DV - o * PE : PE) * YW;
                if (SV < PE * YW) begin : g_pad
                    assign onext[h*SLOT+o*PE*YW+SV+:PE*YW-SV] = '0;
                end
                if (h == H - 1 && o == NOG - 1) begin : g_last
                    // the row's last result: it completes the row in the cycle it leaves, never stored
                    assign onext[h*SLOT+o*PE*YW+:SV] = y4[SV-1:0];
                    if (H * NOG == 1) begin : g_alone  // the only slot: no memory reads the tags
                        logic unused_tags;
                        assign unused_tags = ^{v4, last4, o4, h4, q4};
                    end
                end else if (ORAM) begin : g_ram
                    logic [SV-1:0] rd;
                    hlsgen_ram #(
                        .W(SV), .DEPTH(TQ), .WRITE_FIRST(1'b1)
                    ) u_slot (
                        .clk(clk),
                        .we(v4 && last4 && h4 == HW'(h) && o4 == OGW'(o)),
                        .waddr(q4),
                        .wdata(y4[SV-1:0]),
                        .re(1'b1),
                        .raddr(q3),
                        .rdata(rd)
                    );
                    assign onext[h*SLOT+o*PE*YW+:SV] = rd;
                end else begin : g_reg
                    logic [SV-1:0] mem[TQ];
                    always_ff @(posedge clk) begin
                        if (v4 && last4 && h4 == HW'(h) && o4 == OGW'(o)) mem[q4] <= y4[SV-1:0];
                    end
                    assign onext[h*SLOT+o*PE*YW+:SV] = mem[q4];
                end
            end
        end
    endgenerate

    assign fifo_push = push4;

    hlsgen_fifo #(
        .W(H * DV * YW),
        .DEPTH(OUT_DEPTH)
    ) u_out (
        .clk(clk),
        .rst(rst),
        .in_valid(fifo_push),
        .in_ready(),
        .in_data(orow),
        .out_valid(out_valid),
        .out_ready(out_ready),
        .out_data(out_data)
    );
    assign fifo_pop = out_valid && out_ready;
endmodule
