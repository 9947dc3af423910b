// hlsgen RTL library: attention scores S[h, q, k] = cast(scale * sum_j Q[q, h*DK + j] K[k, g*DK + j]),
// g = h / (H / HKV), for a stream of Q rows (TQ per sequence) and K rows (TK per sequence); the output
// is H*TQ rows of TK scores, head-major (row h*TQ + q), as hlsgen.ir.ops.attention.Scores lays them out.
//
// With R > 0 (the latent scores of multi-head latent attention, hlsgen.ir.ops.decode.LatentScores) the
// dot product has a second part over the decoupled RoPE query QR (TQ rows of H*R) and the RoPE key KR
// (TK rows of R, shared by the heads): sum_j Q[q, h*DK + j] K[k, g*DK + j] + sum_r QR[q, h*R + r] KR[k, r].
// Both parts run on the same multipliers as one dot product of DK + R terms: each operand enters the
// multipliers in a common format (signed if either part is, shifted left by QASH/KASH or QRSH/KRSH bits
// so that the products of both parts have the accumulator's fractional bits), so the sum stays exact.
// With R = 0 the ports qr and kr are tied off and not read.
//
// Q and K (and QR, KR) of a sequence are written into one of two banks (ping-pong: the next sequence
// arrives while this one is computed). PE x SIMD multipliers: PE keys times SIMD of the DK + R products
// per cycle, so a row takes NKG * NJ cycles (NKG = ceil(TK / PE), NJ = ceil((DK + R) / SIMD)); results
// leave 5 + TS + SCALE_MUL cycles after the last operand read (operand registers, products, the TS
// stages of the SIMD sum tree (hlsgen_mac, LV) and OREG's operand register, accumulate, the scale
// product when SCALE_MUL, the cast, the row buffer). The sum is exact; SCALE_MUL = 0 folds a power-of-two scale into the
// fractional bits (ACC_F), SCALE_MUL = 1 multiplies the exact sum by SC_RAW (an unsigned SC_W-bit
// constant) exactly; with SC_SPLIT (a sum wider than one DSP48E2 takes beside the constant: the
// renderer decides) the sum's low SLO bits and the rest are multiplied apart, registered, and added in
// a stage of their own (one cycle more); then one cast to the output type. Every path between registers stays within a
// few LUT levels (benchmarks/bench_rtl_depth.py): the counts' end flags are registers beside them.
//
// The banks: with QRAM / KRAM = 0 register arrays (Q: 2*TQ rows read one a cycle, K: 2*TK rows read PE a
// cycle) through multiplexers; with QRAM = 1 the Q bank is one memory (hlsgen_ram: block RAM or
// LUTRAM) of 2*TQ rows, with KRAM = 1 the K bank is PE memories, memory p holding rows r = g*PE + p at
// word g (+ NKG for the second bank). A memory is written one row a cycle and read with a registered
// read whose register is the stage-1 operand register, so that the latency is the same; the head and
// the group of the dot product are then picked from the registered rows. The memories are for R = 0
// (the RoPE banks stay register arrays: the renderer sets QRAM = KRAM = 0 when R > 0). With ORAM = 1
// the output rows of TK scores are assembled in the output FIFO's memories, PE scores a cycle, with no
// row register (hlsgen_rowout RAM).
//
// With KLINK = 1 (a decode top's K cache, hlsgen_kv_cache LINK) there is no K bank: the TK key rows stay
// in the cache's PE memories and are read in place, PE rows a cycle, as from the KRAM bank (k_gaddr =
// the key group, k_gre = issue, k_gdata the cache's registered read, the stage-1 operand register). The
// k stream then carries one token a sequence, the cache's "rows written"; a sequence issues only while
// its token is valid, and the token is taken with the sequence's last issue (the cache's "done"), so
// the cache writes no row while a sequence reads it. Q keeps its two banks; the cycles of a sequence
// are those of the stream form. KLINK needs R = 0.
module hlsgen_scores #(
    parameter int TQ = 2,
    parameter int TK = 2,
    parameter int H = 1,
    parameter int HKV = 1,
    parameter int DK = 2,
    parameter int PE = 1,
    parameter int SIMD = 1,
    parameter int QW = 8,
    parameter bit QS = 1'b1,
    parameter int KW = 8,
    parameter bit KS = 1'b1,
    parameter bit SCALE_MUL = 1'b0,
    parameter bit SC_SPLIT = 1'b0,  // the scale product in two registered halves (wider than one DSP)
    parameter int SC_W = 1,
    parameter logic [SC_W-1:0] SC_RAW = '1,
    parameter int ACC_F = 0,
    parameter int YW = 8,
    parameter int YF = 0,
    parameter bit YS = 1'b1,
    parameter int Y_RND = 0,
    parameter int Y_OVF = 0,
    parameter int OUT_DEPTH = 2,
    parameter int R = 0,  // RoPE part of the dot product (0: none)
    parameter int QRW = 8,
    parameter bit QRS = 1'b1,
    parameter int KRW = 8,
    parameter bit KRS = 1'b1,
    parameter int QASH = 0,  // left shifts of the operands of each part into the common format
    parameter int KASH = 0,
    parameter int QRSH = 0,
    parameter int KRSH = 0,
    parameter int RP = (R > 0) ? R : 1,  // width of the RoPE ports in values
    parameter int LV = 0,  // levels of the SIMD sum tree between registers (0: no tree registers)
    parameter bit OREG = 1'b0,  // operands registered before the products (hlsgen_mac): a stage more
    parameter bit QRAM = 1'b0,  // the Q bank in a memory (hlsgen_ram) instead of a register array
    parameter bit KRAM = 1'b0,  // the K bank in PE memories (hlsgen_ram) instead of a register array
    parameter bit ORAM = 1'b0,  // output rows assembled in the output FIFO's memories (hlsgen_rowout RAM)
    parameter bit KLINK = 1'b0,  // the K rows read in place from the decode cache (k_g*), no K bank
    parameter int KGW_ = ((TK + PE - 1) / PE > 1) ? $clog2((TK + PE - 1) / PE) : 1
) (
    input  logic                  clk,
    input  logic                  rst,
    input  logic                  q_valid,
    output logic                  q_ready,
    input  logic [H*DK*QW-1:0]    q_data,
    input  logic                  k_valid,
    output logic                  k_ready,
    input  logic [HKV*DK*KW-1:0]  k_data,
    output logic [KGW_-1:0]       k_gaddr,
    output logic                  k_gre,
    input  logic [PE*HKV*DK*KW-1:0] k_gdata,
    input  logic                  qr_valid,
    output logic                  qr_ready,
    input  logic [H*RP*QRW-1:0]   qr_data,
    input  logic                  kr_valid,
    output logic                  kr_ready,
    input  logic [RP*KRW-1:0]     kr_data,
    output logic                  out_valid,
    input  logic                  out_ready,
    output logic [TK*YW-1:0]      out_data
);
    localparam int DT = DK + R;  // terms of a dot product
    // the RoPE part reads qrbuf / krbuf at issue, beside the main part's registered RAM read: the two
    // would be a cycle apart, so RAM banks are built only without it (the renderer never asks for both)
    if (R > 0 && (QRAM || KRAM || KLINK)) begin : g_check_ram
        $fatal(1, "hlsgen_scores: QRAM / KRAM / KLINK need R = 0 (no RoPE part)");
    end
    localparam int NKG = (TK + PE - 1) / PE;
    localparam int NJ = (DT + SIMD - 1) / SIMD;
    // the common operand formats: signed if either part is, wide enough for both parts once shifted
    localparam bit QCS = QS || (R > 0 && QRS);
    localparam bit KCS = KS || (R > 0 && KRS);
    localparam int QAE = QW + ((QCS && !QS) ? 1 : 0) + QASH;
    localparam int QRE = QRW + ((QCS && !QRS) ? 1 : 0) + QRSH;
    localparam int KAE = KW + ((KCS && !KS) ? 1 : 0) + KASH;
    localparam int KRE = KRW + ((KCS && !KRS) ? 1 : 0) + KRSH;
    localparam int QCW = (R > 0 && QRE > QAE) ? QRE : QAE;
    localparam int KCW = (R > 0 && KRE > KAE) ? KRE : KAE;
    localparam int QE = QCW + (QCS ? 0 : 1);
    localparam int KE = KCW + (KCS ? 0 : 1);
    localparam int PW = QE + KE;
    localparam int AW = PW + $clog2(NJ * SIMD + 1) + 1;
    localparam int FW = AW + (SCALE_MUL ? SC_W + 1 : 0);
    localparam int CRW = $clog2(OUT_DEPTH + 2);
    localparam int TQW = $clog2(TQ + 1);
    localparam int TKW = $clog2(TK + 1);
    localparam int HW = $clog2(H + 1);
    localparam int JW = (NJ > 1) ? $clog2(NJ) : 1;
    localparam int KGW = (NKG > 1) ? $clog2(NKG) : 1;
    localparam logic [KGW-1:0] KG_LAST = KGW'(NKG - 1);
    localparam int TLS = (SIMD > 1) ? $clog2(SIMD) : 0;
    // stages of the SIMD sum tree, and the operand register (OREG)
    localparam int TS = ((LV > 0) ? (TLS + LV - 1) / ((LV > 0) ? LV : 1) : 0) + int'(OREG);

    // ---- receive Q and K into two banks ---------------------------------------------------------------
    logic [1:0] full;
    logic wb, rb;
    logic [TQW-1:0] qcnt;
    logic [TKW-1:0] kcnt;
    // flags kept beside the counts (qcnt == TQ, qcnt == TQ - 1; the same for K), so that the handshakes
    // and the end of the sequence are decided without comparing or adding counts
    logic qfull, qlast, kfull, klast;
    logic q_hs, k_hs, seq_done, rope_in, bank_in;

    assign q_ready = !full[wb] && !qfull;
    // KLINK: the cache's token is taken with the sequence's last issue
    assign k_ready = KLINK ? seq_done : !full[wb] && !kfull;
    assign q_hs = q_valid && q_ready;
    assign k_hs = k_valid && k_ready && !KLINK;
    // the sequence is in its bank: every row of Q and K (and QR, KR) taken, the last ones now
    assign bank_in = (qfull || (qlast && q_hs)) && (KLINK || kfull || (klast && k_hs)) && rope_in;

    always_ff @(posedge clk) begin
        if (rst) begin
            full <= '0;
            wb <= 1'b0;
            qcnt <= '0;
            kcnt <= '0;
            {qfull, qlast, kfull, klast} <= {1'b0, TQ == 1, 1'b0, TK == 1};
        end else begin
            if (bank_in) begin
                full[wb] <= 1'b1;
                wb <= ~wb;
                qcnt <= '0;
                kcnt <= '0;
                {qfull, qlast, kfull, klast} <= {1'b0, TQ == 1, 1'b0, TK == 1};
            end else begin
                if (q_hs) begin
                    qcnt <= qcnt + 1'b1;
                    qfull <= qlast;
                    qlast <= TQ > 1 && qcnt == TQW'(TQ - 2);
                end
                if (k_hs) begin
                    kcnt <= kcnt + 1'b1;
                    kfull <= klast;
                    klast <= TK > 1 && kcnt == TKW'(TK - 2);
                end
            end
            if (seq_done) full[rb] <= 1'b0;
        end
    end

    // ---- issue: rows (h, q) head-major, then key groups, then groups of the dot product -------------
    logic [HW-1:0] hc, gc;  // head, key/value head
    logic [TQW-1:0] qc;
    logic [KGW-1:0] kg;
    logic [JW-1:0] jg;
    logic [CRW-1:0] occ;
    logic row_start, issue, last_j, last_kg, row_end, last_row, fifo_pop;

    // j0 / last_j, k0 / last_kg: jg == 0, jg == NJ - 1, kg == 0, kg == NKG - 1, registers kept beside the
    // counts (at T 1024 the key group count has 8 bits: its compares were on the issue path)
    logic j0, k0;
    assign row_start = j0 && k0;
    assign issue = full[rb] && (!KLINK || k_valid) && (!row_start || occ < CRW'(OUT_DEPTH));
    assign row_end = issue && last_j && last_kg;
    assign seq_done = row_end && last_row;

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
        .hlast(),
        .last(last_row),
        .rb(rb)
    );

    always_ff @(posedge clk) begin
        if (rst) begin
            kg <= '0;
            jg <= '0;
            {j0, last_j, k0, last_kg} <= {1'b1, NJ == 1, 1'b1, NKG == 1};
            occ <= '0;
        end else begin
            if (issue) begin
                jg <= last_j ? '0 : jg + 1'b1;
                {j0, last_j} <= {last_j, NJ == 1 || (!last_j && jg == JW'(NJ - 2))};
                if (last_j) begin
                    kg <= last_kg ? '0 : kg + 1'b1;
                    {k0, last_kg} <= {last_kg, NKG == 1 || (!last_kg && kg == KGW'(NKG - 2))};
                end
            end
            occ <= occ + CRW'(issue && row_start) - CRW'(fifo_pop);
        end
    end

    // ---- the banks and the operands of the group: SIMD query values, PE x SIMD key values, in the
    // common formats (the DK values of the head, then the R RoPE values; zero beyond DK + R and TK) -------
    localparam int QD = 2 * TQ;  // words of the Q memory (QRAM)
    localparam int QMW = (QD > 1) ? $clog2(QD) : 1;
    localparam int KD = 2 * NKG;  // words of a K lane's memory (KRAM)
    localparam int KMW = (KD > 1) ? $clog2(KD) : 1;
    localparam int PLW = (PE > 1) ? $clog2(PE) : 1;
    logic v1, first1, last1, v2, first2, last2, v2d, last2d, v3, last3;
    logic [KGW-1:0] o1, o2, o2d, o3;
    logic [SIMD*QCW-1:0] qg1;
    logic [PE*SIMD*KCW-1:0] kg1;
    logic [H*DK*QW-1:0] qrow;
    logic [DK*QW-1:0] qa;
    logic [NJ*SIMD*QCW-1:0] qhead;
    logic [SIMD*QCW-1:0] qg;
    logic [PE*NJ*SIMD*KCW-1:0] kheads;
    logic [PE*SIMD*KCW-1:0] kgv;
    logic [PE-1:0] in_range;
    logic [HKV*DK*KW-1:0] kraw[PE];  // the K rows of the PE lanes
    logic [HW-1:0] qh_sel, kg_sel;  // the head (Q), key head (K), groups the rows are picked by
    logic [JW-1:0] qj_sel, kj_sel;
    logic [KGW-1:0] kk_sel;

    generate
        if (QRAM) begin : g_qram
            logic [HW-1:0] h1;  // the head and dot-product group of the read, beside the read register
            logic [JW-1:0] j1;
            always_ff @(posedge clk) begin
                if (issue) begin
                    h1 <= hc;
                    j1 <= jg;
                end
            end
            hlsgen_ram #(
                .W(H * DK * QW), .DEPTH(QD)
            ) u_bank (
                .clk(clk),
                .we(q_hs),
                .waddr(QMW'(32'(wb) * TQ + 32'(qcnt))),
                .wdata(q_data),
                .re(issue),
                .raddr(QMW'(32'(rb) * TQ + 32'(qc))),
                .rdata(qrow)
            );
            assign qh_sel = h1;
            assign qj_sel = j1;
            assign qg1 = qg;  // the memory's read register is stage 1
        end else begin : g_qreg
            logic [H*DK*QW-1:0] qbuf[2*TQ];
            always_ff @(posedge clk) begin
                if (q_hs) qbuf[{31'd0, wb} * TQ + 32'(qcnt)] <= q_data;
                if (issue) qg1 <= qg;
            end
            assign qrow = qbuf[{31'd0, rb} * TQ + 32'(qc)];
            assign qh_sel = hc;
            assign qj_sel = jg;
        end
        if (KLINK) begin : g_klink
            logic [HW-1:0] g1;  // the key head and dot-product group of the read, beside the register
            logic [JW-1:0] j1;
            always_ff @(posedge clk) begin
                if (issue) begin
                    g1 <= gc;
                    j1 <= jg;
                end
            end
            for (genvar p = 0; p < PE; p++) begin : g_lane
                assign kraw[p] = k_gdata[p*HKV*DK*KW+:HKV*DK*KW];
            end
            assign k_gaddr = KGW_'(kg);
            assign k_gre = issue;
            assign kg_sel = g1;
            assign kj_sel = j1;
            assign kk_sel = o1;
            assign kg1 = kgv;  // the cache's read registers are stage 1
        end else if (KRAM) begin : g_kram
            assign k_gaddr = '0;
            assign k_gre = 1'b0;
            logic [PLW-1:0] wp;  // the lane (memory) and key group of the next K row
            logic [KGW-1:0] wg;
            logic [HW-1:0] g1;  // the key head and dot-product group of the read, beside the register
            logic [JW-1:0] j1;
            always_ff @(posedge clk) begin
                if (issue) begin
                    g1 <= gc;
                    j1 <= jg;
                end
            end
            always_ff @(posedge clk) begin
                if (rst || bank_in) begin
                    wp <= '0;
                    wg <= '0;
                end else if (k_hs) begin
                    if (wp == PLW'(PE - 1)) begin
                        wp <= '0;
                        wg <= wg + 1'b1;
                    end else begin
                        wp <= wp + 1'b1;
                    end
                end
            end
            for (genvar p = 0; p < PE; p++) begin : g_bank
                hlsgen_ram #(
                    .W(HKV * DK * KW), .DEPTH(KD)
                ) u_bank (
                    .clk(clk),
                    .we(k_hs && wp == PLW'(p)),
                    .waddr(KMW'(32'(wb) * NKG + 32'(wg))),
                    .wdata(k_data),
                    .re(issue),
                    .raddr(KMW'(32'(rb) * NKG + 32'(kg))),
                    .rdata(kraw[p])
                );
            end
            assign kg_sel = g1;
            assign kj_sel = j1;
            assign kk_sel = o1;
            assign kg1 = kgv;  // the memories' read registers are stage 1
        end else begin : g_kreg
            assign k_gaddr = '0;
            assign k_gre = 1'b0;
            logic [HKV*DK*KW-1:0] kbuf[2*TK];
            always_ff @(posedge clk) begin
                if (k_hs) kbuf[{31'd0, wb} * TK + 32'(kcnt)] <= k_data;
                if (issue) kg1 <= kgv;
            end
            for (genvar p = 0; p < PE; p++) begin : g_lane
                assign kraw[p] = kbuf[{31'd0, rb} * TK + 32'(kg) * PE + p];
            end
            assign kg_sel = gc;
            assign kj_sel = jg;
            assign kk_sel = kg;
        end
    endgenerate

    // The head and group picks read arrays of the groups (hlsgen_pick): a variable index times a width
    // (qrow[qh_sel*DK*QW +: DK*QW]) is a multiplier, which Yosys built in two DSP48E2s on the path from the
    // head count into the operand register (5.8 ns, 2 ap_fixed<6,2> heads of 6).
    hlsgen_pick #(.G(H), .W(DK * QW), .SW(HW)) u_qh (.x(qrow), .sel(qh_sel), .y(qa));
    hlsgen_pick #(.G(NJ), .W(SIMD * QCW), .SW(JW)) u_qj (.x(qhead), .sel(qj_sel), .y(qg));

    generate
        for (genvar j = 0; j < DK; j++) begin : g_qa
            if (QS) begin : g_s
                assign qhead[j*QCW+:QCW] = QCW'($signed(qa[j*QW+:QW])) <<< QASH;
            end else begin : g_u
                assign qhead[j*QCW+:QCW] = QCW'(qa[j*QW+:QW]) << QASH;
            end
        end
        if (NJ * SIMD > DT) begin : g_qpad
            assign qhead[DT*QCW+:(NJ*SIMD-DT)*QCW] = '0;
        end
        for (genvar p = 0; p < PE; p++) begin : g_krow
            logic [HKV*DK*KW-1:0] krow;
            logic [DK*KW-1:0] ka;
            assign in_range[p] = 32'(kk_sel) * PE + p < TK;
            assign krow = in_range[p] ? kraw[p] : '0;
            hlsgen_pick #(.G(HKV), .W(DK * KW), .SW(HW)) u_kg (.x(krow), .sel(kg_sel), .y(ka));
            for (genvar j = 0; j < DK; j++) begin : g_ka
                if (KS) begin : g_s
                    assign kheads[(p*NJ*SIMD+j)*KCW+:KCW] = KCW'($signed(ka[j*KW+:KW])) <<< KASH;
                end else begin : g_u
                    assign kheads[(p*NJ*SIMD+j)*KCW+:KCW] = KCW'(ka[j*KW+:KW]) << KASH;
                end
            end
            if (NJ * SIMD > DT) begin : g_kpad
                assign kheads[(p*NJ*SIMD+DT)*KCW+:(NJ*SIMD-DT)*KCW] = '0;
            end
            hlsgen_pick #(
                .G(NJ), .W(SIMD * KCW), .SW(JW)
            ) u_kj (
                .x(kheads[p*NJ*SIMD*KCW+:NJ*SIMD*KCW]),
                .sel(kj_sel),
                .y(kgv[p*SIMD*KCW+:SIMD*KCW])
            );
        end

        // ---- the RoPE part: its own two banks, filled with Q and K ----------------------------------
        if (R > 0) begin : g_rope
            logic [H*R*QRW-1:0] qrbuf[2*TQ];
            logic [R*KRW-1:0] krbuf[2*TK];
            logic [TQW-1:0] qrcnt;
            logic [TKW-1:0] krcnt;
            logic qrfull, qrlast, krfull, krlast;  // as qfull, qlast, kfull, klast
            logic qr_hs, kr_hs;
            logic [H*R*QRW-1:0] qrrow;
            logic [R*QRW-1:0] qrh;

            assign qr_ready = !full[wb] && !qrfull;
            assign kr_ready = !full[wb] && !krfull;
            assign qr_hs = qr_valid && qr_ready;
            assign kr_hs = kr_valid && kr_ready;
            assign rope_in = (qrfull || (qrlast && qr_hs)) && (krfull || (krlast && kr_hs));

            always_ff @(posedge clk) begin
                if (qr_hs) qrbuf[{31'd0, wb} * TQ + 32'(qrcnt)] <= qr_data;
                if (kr_hs) krbuf[{31'd0, wb} * TK + 32'(krcnt)] <= kr_data;
            end

            always_ff @(posedge clk) begin
                if (rst || bank_in) begin
                    qrcnt <= '0;
                    krcnt <= '0;
                    {qrfull, qrlast, krfull, krlast} <= {1'b0, TQ == 1, 1'b0, TK == 1};
                end else begin
                    if (qr_hs) begin
                        qrcnt <= qrcnt + 1'b1;
                        qrfull <= qrlast;
                        qrlast <= TQ > 1 && qrcnt == TQW'(TQ - 2);
                    end
                    if (kr_hs) begin
                        krcnt <= krcnt + 1'b1;
                        krfull <= krlast;
                        krlast <= TK > 1 && krcnt == TKW'(TK - 2);
                    end
                end
            end

            assign qrrow = qrbuf[{31'd0, rb} * TQ + 32'(qc)];
            hlsgen_pick #(.G(H), .W(R * QRW), .SW(HW)) u_qrh (.x(qrrow), .sel(hc), .y(qrh));
            for (genvar j = 0; j < R; j++) begin : g_qr
                if (QRS) begin : g_s
                    assign qhead[(DK+j)*QCW+:QCW] = QCW'($signed(qrh[j*QRW+:QRW])) <<< QRSH;
                end else begin : g_u
                    assign qhead[(DK+j)*QCW+:QCW] = QCW'(qrh[j*QRW+:QRW]) << QRSH;
                end
            end
            for (genvar p = 0; p < PE; p++) begin : g_krrow
                logic [R*KRW-1:0] krrow;
                assign krrow = in_range[p] ? krbuf[{31'd0, rb} * TK + 32'(kg) * PE + p] : '0;
                for (genvar j = 0; j < R; j++) begin : g_kr
                    if (KRS) begin : g_s
                        assign kheads[(p*NJ*SIMD+DK+j)*KCW+:KCW] = KCW'($signed(krrow[j*KRW+:KRW])) <<< KRSH;
                    end else begin : g_u
                        assign kheads[(p*NJ*SIMD+DK+j)*KCW+:KCW] = KCW'(krrow[j*KRW+:KRW]) << KRSH;
                    end
                end
            end
        end else begin : g_norope
            assign qr_ready = 1'b0;
            assign kr_ready = 1'b0;
            assign rope_in = 1'b1;
        end
    endgenerate

    // ---- stage 1: operand registers --------------------------------------------------------------------
    always_ff @(posedge clk) begin
        if (issue) begin
            first1 <= j0;
            last1 <= last_j;
            o1 <= kg;
        end
        if (v1) begin
            first2 <= first1;
            last2 <= last1;
            o2 <= o1;
        end
        if (v2d) begin
            last3 <= last2d;
            o3 <= o2d;
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
        .PE(PE), .SIMD(SIMD), .XW(QCW), .XS(QCS), .WW(KCW), .WS(KCS), .AW(AW), .LV(LV), .OREG(OREG)
    ) u_mac (
        .clk(clk),
        .mul_en(v1),
        .acc_en(v2),
        .first(first2),
        .x(qg1),
        .w(kg1),
        .acc(acc)
    );

    // the group's tags beside the SIMD sum tree
    hlsgen_vdelay #(
        .W(1 + KGW), .D(TS)
    ) u_tags (
        .clk(clk),
        .rst(rst),
        .v(v2),
        .x({last2, o2}),
        .vy(v2d),
        .y({last2d, o2d})
    );

    // ---- stage 4 (SCALE_MUL only): the scale product, registered ------------------------------------------
    logic [PE*FW-1:0] fin4;
    logic v4, last4;
    logic [KGW-1:0] o4;

    generate
        if (SCALE_MUL && SC_SPLIT) begin : g_sreg2
            // the sum's low SLO bits (unsigned) and the rest (signed) each times the constant, registered;
            // then their sum: SLO fills the DSP48E2's 27-bit port beside a constant of at most 18 signed
            // bits, else its 18-bit port
            localparam int SLO = (SC_W + 1 <= 18) ? 26 : 17;
            if (AW <= SLO) begin : g_check_split
                $error("hlsgen_scores: SC_SPLIT needs a sum wider than its low half (AW > SLO)");
            end
            logic v4h, last4h;
            logic [KGW-1:0] o4h;
            for (genvar p = 0; p < PE; p++) begin : g_half
                hlsgen_mul2 #(
                    .XW(AW), .XS(1'b1), .CW(SC_W + 1), .PW(FW), .LO(SLO)
                ) u_mul (
                    .clk(clk),
                    .en(1'b1),
                    .x(acc[p*AW+:AW]),
                    .c({1'b0, SC_RAW}),
                    .y(fin4[p*FW+:FW])
                );
            end
            always_ff @(posedge clk) begin
                last4h <= last3;
                o4h <= o3;
                last4 <= last4h;
                o4 <= o4h;
            end
            always_ff @(posedge clk) begin
                if (rst) begin
                    v4h <= 1'b0;
                    v4 <= 1'b0;
                end else begin
                    v4h <= v3;
                    v4 <= v4h;
                end
            end
        end else if (SCALE_MUL) begin : g_sreg
            logic [PE*FW-1:0] fin;
            logic signed [SC_W:0] sc;
            assign sc = {1'b0, SC_RAW};
            for (genvar p = 0; p < PE; p++) begin : g_mul
                assign fin[p*FW+:FW] = FW'($signed(acc[p*AW+:AW])) * FW'(sc);
            end
            always_ff @(posedge clk) begin
                fin4 <= fin;
                last4 <= last3;
                o4 <= o3;
            end
            always_ff @(posedge clk) begin
                if (rst) v4 <= 1'b0;
                else v4 <= v3;
            end
        end else begin : g_snoreg
            for (genvar p = 0; p < PE; p++) begin : g_shift
                assign fin4[p*FW+:FW] = FW'($signed(acc[p*AW+:AW]));
            end
            assign v4 = v3;
            assign last4 = last3;
            assign o4 = o3;
        end
    endgenerate

    // ---- stage 5: the cast, registered; then into the row buffer -------------------------------------------
    logic [PE*YW-1:0] yslots, y5;
    logic v5, last5, fifo_push;
    logic [KGW-1:0] o5;

    generate
        for (genvar p = 0; p < PE; p++) begin : g_out
            hlsgen_cast #(
                .IW(FW), .IF(ACC_F), .IS(1'b1), .OW(YW), .OF(YF), .OS(YS), .RND(Y_RND), .OVF(Y_OVF)
            ) u_cast (
                .x(fin4[p*FW+:FW]),
                .y(yslots[p*YW+:YW])
            );
        end
    endgenerate

    always_ff @(posedge clk) begin
        y5 <= yslots;
        last5 <= last4;
        o5 <= o4;
    end

    always_ff @(posedge clk) begin
        if (rst) v5 <= 1'b0;
        else v5 <= v4;
    end

    assign fifo_push = v5 && last5 && o5 == KG_LAST;

    hlsgen_rowout #(
        .N(TK),
        .L(PE),
        .YW(YW),
        .OUT_DEPTH(OUT_DEPTH),
        .RAM(ORAM)
    ) u_out (
        .clk(clk),
        .rst(rst),
        .we(v5 && last5),
        .lanes(y5),
        .push(fifo_push),
        .pop(fifo_pop),
        .out_valid(out_valid),
        .out_ready(out_ready),
        .out_data(out_data)
    );
endmodule
