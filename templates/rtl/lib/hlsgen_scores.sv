// hlsgen RTL library: attention scores S[h, q, k] = cast(scale * sum_j Q[q, h*DK + j] K[k, g*DK + j]),
// g = h / (H / HKV), for a stream of Q rows (TQ per sequence) and K rows (TK per sequence); the output
// is H*TQ rows of TK scores, head-major (row h*TQ + q), as hlsgen.ir.ops.attention.Scores lays them out.
//
// Q and K of a sequence are written into one of two banks (ping-pong: the next sequence arrives while
// this one is computed). PE x SIMD multipliers: PE keys times SIMD of the DK products per cycle, so a
// row takes NKG * NJ cycles (NKG = ceil(TK / PE), NJ = ceil(DK / SIMD)); results leave 4 cycles after
// the last operand read. The sum is exact; SCALE_MUL = 0 folds a power-of-two scale into the
// fractional bits (ACC_F), SCALE_MUL = 1 multiplies the exact sum by SC_RAW (an unsigned SC_W-bit
// constant) exactly; then one cast to the output type.
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
    parameter int SC_W = 1,
    parameter logic [SC_W-1:0] SC_RAW = '1,
    parameter int ACC_F = 0,
    parameter int YW = 8,
    parameter int YF = 0,
    parameter bit YS = 1'b1,
    parameter int Y_RND = 0,
    parameter int Y_OVF = 0,
    parameter int OUT_DEPTH = 2
) (
    input  logic                  clk,
    input  logic                  rst,
    input  logic                  q_valid,
    output logic                  q_ready,
    input  logic [H*DK*QW-1:0]    q_data,
    input  logic                  k_valid,
    output logic                  k_ready,
    input  logic [HKV*DK*KW-1:0]  k_data,
    output logic                  out_valid,
    input  logic                  out_ready,
    output logic [TK*YW-1:0]      out_data
);
    localparam int NKG = (TK + PE - 1) / PE;
    localparam int NJ = (DK + SIMD - 1) / SIMD;
    localparam int HG = H / HKV;
    localparam int QE = QW + (QS ? 0 : 1);
    localparam int KE = KW + (KS ? 0 : 1);
    localparam int PW = QE + KE;
    localparam int AW = PW + $clog2(NJ * SIMD + 1) + 1;
    localparam int FW = AW + (SCALE_MUL ? SC_W + 1 : 0);
    localparam int CRW = $clog2(OUT_DEPTH + 2);
    localparam int TQW = $clog2(TQ + 1);
    localparam int TKW = $clog2(TK + 1);
    localparam int HW = $clog2(H + 1);
    localparam int JW = (NJ > 1) ? $clog2(NJ) : 1;
    localparam int KGW = (NKG > 1) ? $clog2(NKG) : 1;
    localparam logic [JW-1:0] J_LAST = JW'(NJ - 1);
    localparam logic [KGW-1:0] KG_LAST = KGW'(NKG - 1);

    // ---- receive Q and K into two banks ---------------------------------------------------------------
    logic [H*DK*QW-1:0] qbuf[2*TQ];
    logic [HKV*DK*KW-1:0] kbuf[2*TK];
    logic [1:0] full;
    logic wb, rb;
    logic [TQW-1:0] qcnt, qn;
    logic [TKW-1:0] kcnt, kn;
    logic q_hs, k_hs, seq_done;

    assign q_ready = !full[wb] && qcnt != TQW'(TQ);
    assign k_ready = !full[wb] && kcnt != TKW'(TK);
    assign q_hs = q_valid && q_ready;
    assign k_hs = k_valid && k_ready;
    assign qn = qcnt + TQW'(q_hs);
    assign kn = kcnt + TKW'(k_hs);

    always_ff @(posedge clk) begin
        if (q_hs) qbuf[{31'd0, wb} * TQ + 32'(qcnt)] <= q_data;
        if (k_hs) kbuf[{31'd0, wb} * TK + 32'(kcnt)] <= k_data;
    end

    always_ff @(posedge clk) begin
        if (rst) begin
            full <= '0;
            wb <= 1'b0;
            qcnt <= '0;
            kcnt <= '0;
        end else begin
            if (qn == TQW'(TQ) && kn == TKW'(TK)) begin
                full[wb] <= 1'b1;
                wb <= ~wb;
                qcnt <= '0;
                kcnt <= '0;
            end else begin
                qcnt <= qn;
                kcnt <= kn;
            end
            if (seq_done) full[rb] <= 1'b0;
        end
    end

    // ---- issue: rows (h, q) head-major, then key groups, then groups of the dot product -------------
    logic [HW-1:0] hc, hs, gc;  // head, head within its key/value group, key/value head
    logic [TQW-1:0] qc;
    logic [KGW-1:0] kg;
    logic [JW-1:0] jg;
    logic [CRW-1:0] occ;
    logic row_start, issue, last_j, last_kg, row_end, fifo_pop;

    assign last_j = jg == J_LAST;
    assign last_kg = kg == KG_LAST;
    assign row_start = jg == '0 && kg == '0;
    assign issue = full[rb] && (!row_start || occ < CRW'(OUT_DEPTH));
    assign row_end = issue && last_j && last_kg;
    assign seq_done = row_end && hc == HW'(H - 1) && qc == TQW'(TQ - 1);

    always_ff @(posedge clk) begin
        if (rst) begin
            rb <= 1'b0;
            hc <= '0;
            hs <= '0;
            gc <= '0;
            qc <= '0;
            kg <= '0;
            jg <= '0;
            occ <= '0;
        end else begin
            if (issue) begin
                jg <= last_j ? '0 : jg + 1'b1;
                if (last_j) kg <= last_kg ? '0 : kg + 1'b1;
            end
            if (row_end) begin
                if (qc == TQW'(TQ - 1)) begin
                    qc <= '0;
                    if (hc == HW'(H - 1)) begin
                        hc <= '0;
                        hs <= '0;
                        gc <= '0;
                        rb <= ~rb;
                    end else begin
                        hc <= hc + 1'b1;
                        if (hs == HW'(HG - 1)) begin
                            hs <= '0;
                            gc <= gc + 1'b1;
                        end else begin
                            hs <= hs + 1'b1;
                        end
                    end
                end else begin
                    qc <= qc + 1'b1;
                end
            end
            occ <= occ + CRW'(issue && row_start) - CRW'(fifo_pop);
        end
    end

    // operands of the group: SIMD query values, PE x SIMD key values (zero beyond DK and TK)
    logic [H*DK*QW-1:0] qrow;
    logic [NJ*SIMD*QW-1:0] qhead;
    logic [SIMD*QW-1:0] qg;
    logic [PE*SIMD*KW-1:0] kgv;

    assign qrow = qbuf[{31'd0, rb} * TQ + 32'(qc)];
    assign qhead = (NJ * SIMD * QW)'(qrow[hc*DK*QW+:DK*QW]);
    assign qg = qhead[jg*SIMD*QW+:SIMD*QW];

    generate
        for (genvar p = 0; p < PE; p++) begin : g_krow
            logic [HKV*DK*KW-1:0] krow;
            logic [NJ*SIMD*KW-1:0] khead;
            logic in_range;
            assign in_range = 32'(kg) * PE + p < TK;
            assign krow = in_range ? kbuf[{31'd0, rb} * TK + 32'(kg) * PE + p] : '0;
            assign khead = (NJ * SIMD * KW)'(krow[gc*DK*KW+:DK*KW]);
            assign kgv[p*SIMD*KW+:SIMD*KW] = khead[jg*SIMD*KW+:SIMD*KW];
        end
    endgenerate

    // ---- stage 1: operand registers --------------------------------------------------------------------
    logic v1, first1, last1, v2, first2, last2, v3, last3;
    logic [KGW-1:0] o1, o2, o3;
    logic [SIMD*QW-1:0] qg1;
    logic [PE*SIMD*KW-1:0] kg1;

    always_ff @(posedge clk) begin
        if (issue) begin
            qg1 <= qg;
            kg1 <= kgv;
            first1 <= jg == '0;
            last1 <= last_j;
            o1 <= kg;
        end
        if (v1) begin
            first2 <= first1;
            last2 <= last1;
            o2 <= o1;
        end
        if (v2) begin
            last3 <= last2;
            o3 <= o2;
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
            v3 <= v2;
        end
    end

    // ---- stages 2 and 3: products, accumulate --------------------------------------------------------
    logic [PE*AW-1:0] acc;

    hlsgen_mac #(
        .PE(PE), .SIMD(SIMD), .XW(QW), .XS(QS), .WW(KW), .WS(KS), .AW(AW)
    ) u_mac (
        .clk(clk),
        .mul_en(v1),
        .acc_en(v2),
        .first(first2),
        .x(qg1),
        .w(kg1),
        .acc(acc)
    );

    // ---- stage 4: scale, cast, row assembly ----------------------------------------------------------------
    logic [PE*YW-1:0] yslots;
    logic fifo_push;

    generate
        for (genvar p = 0; p < PE; p++) begin : g_out
            logic signed [FW-1:0] fin;
            if (SCALE_MUL) begin : g_mul
                logic signed [SC_W:0] sc;
                assign sc = {1'b0, SC_RAW};
                assign fin = FW'($signed(acc[p*AW+:AW])) * FW'(sc);
            end else begin : g_shift
                assign fin = $signed(acc[p*AW+:AW]);
            end
            hlsgen_cast #(
                .IW(FW), .IF(ACC_F), .IS(1'b1), .OW(YW), .OF(YF), .OS(YS), .RND(Y_RND), .OVF(Y_OVF)
            ) u_cast (
                .x(fin),
                .y(yslots[p*YW+:YW])
            );
        end
    endgenerate

    assign fifo_push = v3 && last3 && o3 == KG_LAST;

    hlsgen_rowout #(
        .N(TK),
        .L(PE),
        .YW(YW),
        .OUT_DEPTH(OUT_DEPTH)
    ) u_out (
        .clk(clk),
        .rst(rst),
        .we(v3 && last3),
        .slot(o3),
        .lanes(yslots),
        .push(fifo_push),
        .pop(fifo_pop),
        .out_valid(out_valid),
        .out_ready(out_ready),
        .out_data(out_data)
    );
endmodule
