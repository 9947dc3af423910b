// hlsgen RTL library: softmax over rows of N values, with an optional mask (1 = attend) repeated over
// every block of NQ rows. The arithmetic is hlsgen.ir.ops.softmax.Softmax.execute, step by step:
//
//   M (L lanes a cycle): m = max of the kept x (the row's keep bits from the mask buffer), a group of L
//                        a cycle from the row held on in_data (hlsgen_gsel, a tree of L lanes, and a
//                        running maximum); the row is accepted with its last group (latency: no scan)
//   E (L lanes a cycle): the group picked from the row (SELS stages: a register every SEL_LV levels of
//                        its G:1 multiplexer and after the last; none when G = 1), then
//                        stable:  d = m - x, d' = (d + 2^(DROP-1)) >> DROP (registered: stage D),
//                                 e = cast(EHI[d' >> LO] * ELO[d' & (2^LO - 1)]), 0 when d' >= 2^ADDR
//                                 (LO_CPL: ELO_INIT holds c = ELO - 2^EF <= 0, signed, and the product
//                                 is (EHI << EF) + EHI * c, the same integer with a narrower factor)
//                        latency: e = EXP[top TB bits of x, offset binary] (the address registered)
//                        e = 0 where masked; acc = exact sum of the row's e
//   N (L lanes a cycle): S = cast(acc) to the sum type; p = leading one of S (0 when S <= 1; hlsgen_lead,
//                        two registered steps); r = INV[((S << IB) >> p) mod 2^IB]; t = clip(p - SF,
//                        TMIN, TMAX); y = cast((e * r) << (WSH0 - t)) from the wide type (WF fractional
//                        bits), 0 when S == 0: the product registered, then the cast split by a register
//                        (hlsgen_castreg) into the row buffer
//
// A row spends G = ceil(N / L) cycles in M, G in E and G in N, so rows follow each other every G cycles.
// No tree is N values wide: the maximum, like the sum, is taken L lanes a cycle, so that a row's length
// costs memory (F0, the rows of exponentials, the output rows) and multiplexer inputs, not a tree and a
// row register. The maximum is associative, so the scan equals the reference's max over the row
// exactly. The exp tables are parameters (entry k at
// bits [k*EW +: EW], ELO_INIT's at [k*LW +: LW]); INV is a ROM loaded from INV_FILE ($readmemh) and read
// when a row enters N. Lanes are picked from a row by a multiplexer over the G groups (constant part
// selects: a variable index times a width is a multiplier, which synthesis may put on a DSP).
//
// With RAM = 1 the rows waiting for E (F0) and E's row are one memory of F0D + 1 row slots read in
// place (LUTRAM, asynchronous read: no row register). The rows of exponentials between E and N: with
// RAM = 0 a shift register (a group enters as it leaves the lanes, the groups in order) and a FIFO of
// F1D whole rows, N loading a whole row and picking its groups by a multiplexer; with RAM = 1 one
// memory (hlsgen_ram, block RAM or LUTRAM) of F1D + 1 row slots (the F1D rows the model counts and
// the row N reads) of 2^GW words of L exponentials: E writes each group as it leaves the lanes, N reads
// one group a cycle with a registered read addressed a cycle ahead (the group it issues next), so that
// the read register holds the group N issues: the same cycles as the register form. RAM = 1 also
// assembles the output rows in the output FIFO's memories, with no row register (hlsgen_rowout RAM).
//
// With GOUT = 1 (a context engine reads the rows in place, one group of L probabilities a cycle: its
// SIMD equals L) the output rows go into one memory (hlsgen_ram) of OUT_DEPTH + 1 row slots of 2^GW
// words of L values, written a group as it leaves the lanes; a row is taken (out_valid / out_ready, the
// same handshake and cycles as the stream) and then read in place through the group port: out_gaddr
// (the group), out_gre (read enable), out_gdata (the registered read, one cycle later). The taken row
// keeps its slot until the next one is taken (the + 1 slot), so the credits are those of the FIFO;
// out_data is then zero (no T-wide row leaves the module).
module hlsgen_softmax #(
    parameter int N = 4,
    parameter int L = 1,
    parameter int ROWS = 1,
    parameter int NQ = 1,
    parameter bit HAS_MASK = 1'b0,
    parameter int VARIANT = 0,  // 0 stable, 1 latency
    parameter int XW = 8,
    parameter bit XS = 1'b1,
    // stable: exp tables and their addressing
    parameter int DROP = 0,
    parameter int ADDR = 2,
    parameter int HIB = 1,
    parameter int LOB = 1,
    // latency: the exp table's address bits
    parameter int TB = 1,
    // exp entries
    parameter int EW = 18,
    parameter int EF = 17,
    parameter bit ES = 1'b0,
    parameter int E_RND = 0,
    parameter int E_OVF = 0,
    parameter bit LO_CPL = 1'b0,  // ELO_INIT holds ELO - 2^EF (signed, LW bits); unsigned ES only
    parameter int LW = EW,  // bits of an ELO_INIT entry
    parameter logic [(2**HIB)*EW-1:0] EHI_INIT = '0,
    parameter logic [(2**LOB)*LW-1:0] ELO_INIT = '0,
    parameter logic [(2**TB)*EW-1:0] EXP_INIT = '0,
    // sum
    parameter int ACW = 20,
    parameter int SW = 24,
    parameter int SF = 16,
    parameter int S_RND = 0,
    parameter int S_OVF = 0,
    // reciprocal
    parameter int IB = 10,
    parameter int IW = 18,
    parameter bit IS = 1'b0,
    parameter INV_FILE = "",  // $readmemh file of the reciprocal table: 2^IB lines of IW bits
    parameter int TMIN = 0,
    parameter int TMAX = 0,
    parameter int WSH0 = 0,
    parameter int WF = 0,
    // output
    parameter int YW = 16,
    parameter int YF = 15,
    parameter bit YS = 1'b1,
    parameter int Y_RND = 0,
    parameter int Y_OVF = 0,
    parameter int OUT_DEPTH = 2,
    parameter int LV = 1,  // levels of the maximum and sum trees between registers (0: unregistered trees)
    parameter int MODEL_RP = -1,  // RP and RE as the renderer's timing model states them (-1: unchecked)
    parameter int MODEL_RE = -1,
    parameter int SEL_LV = 4,  // levels of E's group multiplexer (2:1) between registers
    parameter bit RAM = 1'b0,  // rows of exponentials (E to N) and output rows in memories
    parameter bit GOUT = 1'b0,  // output rows read in place a group at a time (out_g*), no row stream
    parameter int GW_ = ((N + L - 1) / L > 1) ? $clog2((N + L - 1) / L) : 1  // bits of a group address
) (
    input  logic            clk,
    input  logic            rst,
    input  logic            in_valid,
    output logic            in_ready,
    input  logic [N*XW-1:0] in_data,
    input  logic            mask_valid,
    output logic            mask_ready,
    input  logic [N-1:0]    mask_data,
    output logic            out_valid,
    input  logic            out_ready,
    output logic [N*YW-1:0] out_data,
    input  logic [GW_-1:0]  out_gaddr,
    input  logic            out_gre,
    output logic [L*YW-1:0] out_gdata
);
    localparam int G = (N + L - 1) / L;
    localparam int NP = G * L;  // row length padded to whole groups
    localparam int GW = (G > 1) ? $clog2(G) : 1;
    localparam int XE = XW + (XS ? 0 : 1);
    localparam int EE = EW + (ES ? 0 : 1);
    localparam int IE = IW + (IS ? 0 : 1);
    localparam int PW = EE + IE;
    localparam int SHMAX = WSH0 - TMIN;
    localparam int SHW = $clog2(SHMAX + 1) + 1;
    localparam int CRW = $clog2(OUT_DEPTH + 2);
    localparam int PCW = (SW > 1) ? $clog2(SW) : 1;
    localparam int RCW = $clog2(ROWS + 1);
    localparam int QCW = $clog2(NQ + 1);
    // pipeline: the lane trees' latency (as hlsgen_tree); the group multiplexers of M and E (hlsgen_gsel):
    // a register after every SEL_LV of their GW levels and after the last
    localparam int TLE = (L > 1) ? $clog2(L) : 0;
    localparam int TE = (LV > 0) ? (TLE + LV - 1) / ((LV > 0) ? LV : 1) : 0;
    localparam int SELS = (G > 1) ? (GW + SEL_LV - 1) / SEL_LV : 0;
    // M scans MG groups a row (the latency variant reads no maximum: one); a group issued in M reaches
    // the running maximum RP cycles later (the multiplexer, or one register when there is none, and the
    // lane tree), so the row's maximum enters F0M RP cycles after the row was accepted with its last group
    localparam int MG = (VARIANT == 0) ? G : 1;
    localparam int RP = (VARIANT == 0) ? ((SELS > 0) ? SELS : 1) + TE : 1;
    localparam int F0D = RP + 2;
    localparam int RE = SELS + 5 + TE + 4;  // issue to the reciprocal address in F1B (5 lane stages)
    localparam int F1D = RE + 2;
    // the timing model (hlsgen.backends.rtl.render_norm) states RP and RE too: elaboration stops where
    // it disagrees with this pipeline (Verilator with -Werror-USERERROR, Yosys), not a cosim's cycle count
    if ((MODEL_RP >= 0 && MODEL_RP != RP) || (MODEL_RE >= 0 && MODEL_RE != RE)) begin : g_model_differs
        $error("hlsgen_softmax: the timing model's RP %0d / RE %0d are not the pipeline's %0d / %0d",
               MODEL_RP, MODEL_RE, RP, RE);
    end
    localparam int EGW = L * (XW + 1);  // a group's values and keep bits (M's and E's multiplexers)
    localparam int C0W = $clog2(F0D + 2);
    localparam int C1W = $clog2(F1D + 2);

    // ---- mask buffer (two banks of NQ rows) ---------------------------------------------------------
    logic [N-1:0] keep_in;
    logic mask_ok;
    generate
        if (HAS_MASK) begin : g_mask
            logic [N-1:0] mbuf[2*NQ];
            logic [1:0] mfull;
            logic wb, rb;
            logic [QCW-1:0] wr, qc;
            logic [RCW-1:0] rc;
            logic take;
            assign mask_ready = !mfull[wb];
            assign keep_in = mbuf[{31'd0, rb} * NQ + 32'(qc)];
            assign mask_ok = mfull[rb];
            assign take = in_valid && in_ready;
            always_ff @(posedge clk) begin
                if (mask_valid && mask_ready) mbuf[{31'd0, wb} * NQ + 32'(wr)] <= mask_data;
            end
            always_ff @(posedge clk) begin
                if (rst) begin
                    mfull <= '0;
                    wb <= 1'b0;
                    rb <= 1'b0;
                    wr <= '0;
                    qc <= '0;
                    rc <= '0;
                end else begin
                    if (mask_valid && mask_ready) begin
                        if (wr == QCW'(NQ - 1)) begin
                            wr <= '0;
                            mfull[wb] <= 1'b1;
                            wb <= ~wb;
                        end else begin
                            wr <= wr + 1'b1;
                        end
                    end
                    if (take) begin
                        qc <= (qc == QCW'(NQ - 1)) ? '0 : qc + 1'b1;
                        if (rc == RCW'(ROWS - 1)) begin
                            rc <= '0;
                            qc <= '0;
                            mfull[rb] <= 1'b0;
                            rb <= ~rb;
                        end else begin
                            rc <= rc + 1'b1;
                        end
                    end
                end
            end
        end else begin : g_nomask
            assign keep_in = '1;
            assign mask_ok = 1'b1;
            assign mask_ready = 1'b1;
        end
    endgenerate

    // ---- M: the row's maximum, a group of L values a cycle, read from the row held on in_data ------------
    // The row stays on in_data while M scans it (a stream's data is stable from valid to ready); it is
    // accepted with its last group, into F0 (with its keep bits), once F0 has room. The groups' maxima
    // (a tree of L lanes) are combined into a running maximum; the row's goes into F0M.
    logic p_acc, f0m_valid, e_load, m_vd, m_issue, m_room, mg0, mgl;
    logic [GW-1:0] mg;
    logic [XW-1:0] m_row, f0_m;
    logic [C0W-1:0] occ0;

    assign m_room = occ0 < C0W'(F0D);
    assign in_ready = mgl && m_room && mask_ok;
    assign p_acc = in_valid && in_ready;
    assign m_issue = in_valid && mask_ok && (!mgl || m_room);

    // mg0 / mgl: mg == 0 and mg == MG - 1, registers beside the group count
    always_ff @(posedge clk) begin
        if (rst) begin
            occ0 <= '0;
            mg <= '0;
            {mg0, mgl} <= {1'b1, MG == 1};
        end else begin
            occ0 <= occ0 + C0W'(p_acc) - C0W'(e_load);
            if (m_issue) begin
                mg <= mgl ? '0 : mg + 1'b1;
                {mg0, mgl} <= {mgl, MG == 1 || (!mgl && mg == GW'(MG - 2))};
            end
        end
    end

    // F0 and E's row: with RAM = 1 one memory of F0D + 1 row slots (LUTRAM, read asynchronously), the
    // row E works on read in place from its slot; else a FIFO of F0D rows and E's row register
    logic [NP*XW-1:0] e_x;
    logic [NP-1:0] e_keep;
    generate
        if (RAM) begin : g_f0ram
            localparam int S0 = F0D + 1;  // row slots: the F0D rows of F0, and E's row
            localparam int S0W = $clog2(S0);
            logic [NP*XW+NP-1:0] f0mem[S0];
            logic [S0W-1:0] f0w, f0e;  // the slot an accepted row is written to, E's slot
            always_ff @(posedge clk) begin
                if (p_acc) f0mem[f0w] <= {NP'(keep_in), (NP * XW)'(in_data)};
            end
            hlsgen_slots #(
                .S(S0)
            ) u_f0slots (
                .clk(clk),
                .rst(rst),
                .wdone(p_acc),
                .load(e_load),
                .w(f0w),
                .head(),
                .cur(f0e)
            );
            assign {e_keep, e_x} = f0mem[f0e];
        end else begin : g_f0reg
            logic [NP*XW+NP-1:0] f0_row;
            hlsgen_fifo #(
                .W(NP * XW + NP),
                .DEPTH(F0D)
            ) u_f0 (
                .clk(clk),
                .rst(rst),
                .in_valid(p_acc),
                .in_ready(),
                .in_data({NP'(keep_in), (NP * XW)'(in_data)}),
                .out_valid(),
                .out_ready(e_load),
                .out_data(f0_row)
            );
            always_ff @(posedge clk) begin
                if (e_load) begin
                    e_x <= f0_row[NP*XW-1:0];
                    e_keep <= f0_row[NP*XW+:NP];
                end
            end
        end
    endgenerate

    generate
        if (VARIANT == 0) begin : g_mscan
            logic [G*EGW-1:0] mx;
            logic [EGW-1:0] mgrp;
            logic [L*XW-1:0] gx;
            logic [L-1:0] gk;
            logic [XW-1:0] gm, rm, cm;
            logic gm_keep, rk, ck, gt, mv, mfirst, mlast;
            logic [NP*XW-1:0] x_np;
            logic [NP-1:0] keep_np;
            assign x_np = (NP * XW)'(in_data);
            assign keep_np = NP'(keep_in);  // the padding lanes are not kept
            for (genvar gi = 0; gi < G; gi++) begin : g_grp
                assign mx[gi*EGW+:EGW] = {keep_np[gi*L+:L], x_np[gi*L*XW+:L*XW]};
            end
            if (G > 1) begin : g_sel
                hlsgen_gsel #(
                    .G(G), .W(EGW), .SEL_LV(SEL_LV)
                ) u_msel (
                    .clk(clk),
                    .x(mx),
                    .sel(mg),
                    .y(mgrp)
                );
            end else begin : g_reg
                always_ff @(posedge clk) mgrp <= mx;
            end
            assign {gk, gx} = mgrp;
            hlsgen_tree #(
                .N(L), .W(XW), .S(XS), .OW(XW), .OP(1), .LV(LV)
            ) u_max (
                .clk(clk),
                .x(gx),
                .keep(gk),
                .y(gm),
                .y_keep(gm_keep)
            );
            hlsgen_vdelay #(
                .W(2), .D(RP)
            ) u_mdelay (
                .clk(clk),
                .rst(rst),
                .v(m_issue),
                .x({mg0, mgl}),
                .vy(mv),
                .y({mfirst, mlast})
            );
            // the running maximum over the kept values of the row's groups so far (rk: some are kept)
            if (XS) begin : g_gts
                assign gt = $signed(gm) > $signed(rm);
            end else begin : g_gtu
                assign gt = gm > rm;
            end
            always_comb begin
                if (mfirst || !rk) {ck, cm} = {gm_keep, gm};
                else if (!gm_keep) {ck, cm} = {1'b1, rm};
                else {ck, cm} = {1'b1, gt ? gm : rm};
            end
            always_ff @(posedge clk) begin
                if (mv) {rk, rm} <= {ck, cm};
            end
            // the input type's minimum when nothing is kept
            assign m_row = ck ? cm : (XS ? {1'b1, {(XW - 1) {1'b0}}} : '0);
            assign m_vd = mv && mlast;
        end else begin : g_mnone
            // the latency variant reads no maximum: F0M gets a placeholder a cycle after the row
            logic q;
            always_ff @(posedge clk) begin
                if (rst) q <= 1'b0;
                else q <= p_acc;
            end
            assign m_vd = q;
            assign m_row = '0;
        end
    endgenerate

    hlsgen_fifo #(
        .W(XW),
        .DEPTH(F0D)
    ) u_f0m (
        .clk(clk),
        .rst(rst),
        .in_valid(m_vd),
        .in_ready(),
        .in_data(m_row),
        .out_valid(f0m_valid),
        .out_ready(e_load),
        .out_data(f0_m)
    );

    // ---- E: exponentials, L lanes a cycle, in 4 stages (tables | product | sum | cast); their sum in a tree
    logic e_valid;
    logic [XW-1:0] e_m;
    logic [GW-1:0] eg, d_g;
    logic [C1W-1:0] occ1;
    logic e_issue, e_last, f1_pop, f1b_valid, n_load, d_v, d_first, d_last;
    logic [ACW-1:0] eacc, eacc_next, tsum;
    logic [L*EW-1:0] elanes, d_e;
    logic [L*XW-1:0] egx;
    logic [L-1:0] egk;

    // E's group: picked from the row read in place by hlsgen_gsel (a tree of 2:1 multiplexers over the
    // bits of eg, registered every SEL_LV levels and after its last: SELS stages; not a chain of G
    // compares, which at G = 256 is 256 multiplexers deep: Yosys' abc9 ran out of stack walking it). The
    // row maximum travels beside the group (emr), so that the group and its maximum meet after SELS
    // cycles.
    localparam int ESR = (SELS > 0) ? SELS : 1;
    logic [ESR*XW-1:0] emr;  // e_m 1 .. SELS cycles ago, at [(k-1)*XW +: XW]
    logic [XW-1:0] em_d;  // the maximum of the group leaving the multiplexer
    logic [G*EGW-1:0] ex;
    always_ff @(posedge clk) emr <= (ESR * XW)'({emr, e_m});
    generate
        if (SELS > 0) begin : g_emd
            assign em_d = emr[(SELS-1)*XW+:XW];
        end else begin : g_em0
            assign em_d = e_m;
        end
        for (genvar gi = 0; gi < G; gi++) begin : g_egrp
            assign ex[gi*EGW+:EGW] = {e_keep[gi*L+:L], e_x[gi*L*XW+:L*XW]};
        end
    endgenerate
    hlsgen_gsel #(
        .G(G), .W(EGW), .SEL_LV(SEL_LV)
    ) u_esel (
        .clk(clk),
        .x(ex),
        .sel(eg),
        .y({egk, egx})
    );

    // eg0 / egl: eg == 0 and eg == G - 1, registers kept beside eg (no compare of the group count on
    // the path from the count to the handshakes and occupancies); ng0 / ngl likewise
    logic eg0, egl, ng0, ngl;
    assign e_issue = e_valid && (!eg0 || occ1 < C1W'(F1D));
    assign e_last = e_issue && egl;
    assign e_load = f0m_valid && (!e_valid || e_last);

    generate
        for (genvar l = 0; l < L; l++) begin : g_exp
            logic [XW-1:0] x;
            logic k;
            logic [EW-1:0] e;
            assign x = egx[l*XW+:XW];
            assign k = egk[l];
            if (VARIANT == 0) begin : g_stable
                logic signed [XE:0] d;
                logic [XE:0] dd;
                logic [ADDR-1:0] q_dd;
                logic [2*EW-1:0] prod, b_prod;
                logic [EW-1:0] ecast, hi_e, a_hi, c_hi;
                logic [LW-1:0] lo_e, a_lo;
                logic ok, q_ok, a_ok, c_ok, b_ok;
                if (XS) begin : g_ds
                    assign d = (XE + 1)'($signed(em_d)) - (XE + 1)'($signed(x));
                end else begin : g_du
                    assign d = (XE + 1)'(em_d) - (XE + 1)'(x);
                end
                assign dd = ($unsigned(d) + (XE + 1)'((1 << DROP) >> 1)) >> DROP;
                assign ok = k && ((dd >> ADDR) == '0);
                // the table address registered (stage D), then the two tables read into stage 1
                always_ff @(posedge clk) begin
                    q_dd <= dd[ADDR-1:0];
                    q_ok <= ok;
                end
                assign hi_e = EHI_INIT[q_dd[ADDR-1:LOB]*EW+:EW];
                assign lo_e = ELO_INIT[q_dd[LOB-1:0]*LW+:LW];
                // the tables (stage A), the DSP's product registered (stage C), then the sum of
                // LO_CPL's form (stage B: no carry chain behind the multiplier), the cast (stage E)
                always_ff @(posedge clk) begin
                    a_hi <= hi_e;
                    a_lo <= lo_e;
                    a_ok <= q_ok;
                    c_hi <= a_hi;
                    c_ok <= a_ok;
                    b_prod <= prod;
                    b_ok <= c_ok;
                    e <= b_ok ? ecast : '0;
                end
                if (LO_CPL) begin : g_pc
                    // hi * (2^EF + c) modulo 2^(2EW): exact, as the product itself fits in 2EW bits
                    localparam int HCW = (EW + LW + 1 < 2 * EW) ? EW + LW + 1 : 2 * EW;
                    logic signed [HCW-1:0] c_hc;
                    always_ff @(posedge clk) c_hc <= $signed({1'b0, a_hi}) * $signed(a_lo);
                    assign prod = ((2 * EW)'(c_hi) << EF) + (2 * EW)'(c_hc);
                end else if (ES) begin : g_ps
                    always_ff @(posedge clk) prod <= $signed(a_hi) * $signed(a_lo);
                end else begin : g_pu
                    always_ff @(posedge clk) prod <= a_hi * a_lo;
                end
                hlsgen_cast #(
                    .IW(2 * EW), .IF(2 * EF), .IS(ES), .OW(EW), .OF(EF), .OS(ES), .RND(E_RND), .OVF(E_OVF)
                ) u_cast (
                    .x(b_prod),
                    .y(ecast)
                );
            end else begin : g_latency
                logic [TB-1:0] idx, q_idx;
                logic [EW-1:0] a_e, c_e, b_e;
                logic q_k;
                if (XS && TB == 1) begin : g_s1
                    assign idx = ~x[XW-1];
                end else if (XS) begin : g_s
                    assign idx = {~x[XW-1], x[XW-2-:TB-1]};
                end else begin : g_u
                    assign idx = x[XW-1-:TB];
                end
                always_ff @(posedge clk) begin
                    q_idx <= idx;
                    q_k <= k;
                    a_e <= q_k ? EXP_INIT[q_idx*EW+:EW] : '0;
                    c_e <= a_e;  // as many stages as the stable variant's lanes
                    b_e <= c_e;
                    e <= b_e;
                end
            end
            assign elanes[l*EW+:EW] = e;
        end
    endgenerate

    always_ff @(posedge clk) begin
        if (e_load) e_m <= f0_m;
    end

    always_ff @(posedge clk) begin
        if (rst) begin
            e_valid <= 1'b0;
            eg <= '0;
            {eg0, egl} <= {1'b1, G == 1};
            occ1 <= '0;
        end else begin
            if (e_load) e_valid <= 1'b1;
            else if (e_last) e_valid <= 1'b0;
            if (e_issue) begin
                eg <= egl ? '0 : eg + 1'b1;
                {eg0, egl} <= {egl, G == 1 || (!egl && eg == GW'(G - 2))};
            end
            occ1 <= occ1 + C1W'(e_issue && eg0) - C1W'(f1_pop);
        end
    end

    hlsgen_tree #(
        .N(L), .W(EW), .S(ES), .OW(ACW), .OP(0), .LV(LV)
    ) u_esum (
        .clk(clk),
        .x(elanes),
        .keep('1),
        .y(tsum),
        .y_keep()
    );

    hlsgen_delay #(
        .W(L * EW), .D(TE)
    ) u_edelay (
        .clk(clk),
        .x(elanes),
        .y(d_e)
    );
    hlsgen_vdelay #(
        .W(GW + 2), .D(5 + SELS + TE)
    ) u_gdelay (
        .clk(clk),
        .rst(rst),
        .v(e_issue),
        .x({eg, eg0, egl}),
        .vy(d_v),
        .y({d_g, d_first, d_last})
    );

    assign eacc_next = (d_first ? '0 : eacc) + tsum;
    always_ff @(posedge clk) begin
        if (d_v) eacc <= eacc_next;
    end

    // the sum, its leading one and the reciprocal's address into F1B four cycles after the row entered F1
    logic [ACW-1:0] v_acc;
    logic [SW-1:0] s_c, s_q, s_q2, s_q3;
    logic [PCW-1:0] p_q;
    logic [IB-1:0] idx_c, f1_idx;
    logic [SHW-1:0] sh_c, f1_sh;
    logic v1, v2, v3, v4, f1_zero;

    hlsgen_cast #(
        .IW(ACW), .IF(EF), .IS(ES), .OW(SW), .OF(SF), .OS(1'b0), .RND(S_RND), .OVF(S_OVF)
    ) u_sum (
        .x(v_acc),
        .y(s_c)
    );

    // the leading one in two registered steps; the sum waits beside it
    hlsgen_lead #(
        .W(SW), .PW(PCW)
    ) u_lead (
        .clk(clk),
        .x(s_q),
        .p(p_q)
    );

    always_comb begin : c_recip
        logic [SW+IB-1:0] mm;
        int t;
        mm = {s_q3, {IB{1'b0}}} >> p_q;
        idx_c = mm[IB-1:0];
        t = int'(p_q) - SF;
        if (t < TMIN) t = TMIN;
        if (t > TMAX) t = TMAX;
        sh_c = SHW'(WSH0 - t);
    end

    always_ff @(posedge clk) begin
        if (d_v && d_last) v_acc <= eacc_next;
        s_q <= s_c;
        s_q2 <= s_q;
        s_q3 <= s_q2;
    end

    always_ff @(posedge clk) begin
        if (rst) begin
            v1 <= 1'b0;
            v2 <= 1'b0;
            v3 <= 1'b0;
            v4 <= 1'b0;
        end else begin
            v1 <= d_v && d_last;
            v2 <= v1;
            v3 <= v2;
            v4 <= v3;
        end
    end

    hlsgen_fifo #(
        .W(IB + SHW + 1),
        .DEPTH(F1D)
    ) u_f1b (
        .clk(clk),
        .rst(rst),
        .in_valid(v4),
        .in_ready(),
        .in_data({idx_c, sh_c, s_q3 == '0}),
        .out_valid(f1b_valid),
        .out_ready(n_load),
        .out_data({f1_idx, f1_sh, f1_zero})
    );

    // ---- N: the reciprocal read as the row loads; products, L lanes a cycle, in 3 stages -----------------
    logic [IW-1:0] inv_rom[2**IB];
    initial $readmemh(INV_FILE, inv_rom);

    logic n_valid, n_zero;
    logic [IW-1:0] n_inv, s0_inv;
    logic [SHW-1:0] n_sh, s0_sh, s1_sh;
    logic [GW-1:0] ng;
    logic [CRW-1:0] occ2;
    logic n_issue, n_last, out_pop, s0_v, s1_v, s2_v, s0_last, s1_last, s2_last, s0_zero, s1_zero, s2_zero;
    logic [L*YW-1:0] ylanes;
    logic [L*EW-1:0] ngrp;

    assign n_issue = n_valid && (!ng0 || occ2 < CRW'(OUT_DEPTH));
    assign n_last = n_issue && ngl;
    assign n_load = f1b_valid && (!n_valid || n_last);

    // ---- the rows of exponentials from E to N: N's group ngrp ------------------------------------------
    generate
        if (RAM) begin : g_f1ram
            localparam int S1 = F1D + 1;  // row slots: the F1D rows between E and N, and N's row
            localparam int S1W = $clog2(S1);
            logic [S1W-1:0] f1w, f1h, f1n;  // the slot E writes, the slot N loads next, N's slot
            logic [GW-1:0] ng_next;
            assign ng_next = n_issue ? (ngl ? '0 : ng + 1'b1) : ng;
            hlsgen_ram #(
                .W(L * EW), .DEPTH(S1 << GW)
            ) u_f1 (
                .clk(clk),
                .we(d_v),
                .waddr({f1w, d_g}),
                .wdata(d_e),
                .re(1'b1),
                .raddr({n_load ? f1h : f1n, ng_next}),
                .rdata(ngrp)
            );
            hlsgen_slots #(
                .S(S1)
            ) u_f1slots (
                .clk(clk),
                .rst(rst),
                .wdone(d_v && d_last),
                .load(n_load),
                .w(f1w),
                .head(f1h),
                .cur(f1n)
            );
            assign f1_pop = n_load;
        end else begin : g_f1reg
            logic [NP*EW-1:0] erow_next, f1_row, n_e;
            logic f1_valid;
            // the groups of a row come in order (0 .. G - 1, as eg counts): the row is a shift register,
            // the latest group at the top, so that group g sits at [g*L*EW +: L*EW] once the row is whole
            // (no multiplexer picks a group's place)
            if (G > 1) begin : g_eshift
                logic [(G-1)*L*EW-1:0] erow;  // the groups so far
                assign erow_next = {d_e, erow};
                always_ff @(posedge clk) begin
                    if (d_v) erow <= erow_next[NP*EW-1:L*EW];
                end
            end else begin : g_eone
                assign erow_next = d_e;
            end
            always_ff @(posedge clk) begin
                if (n_load) n_e <= f1_row;
            end
            hlsgen_fifo #(
                .W(NP * EW),
                .DEPTH(F1D)
            ) u_f1 (
                .clk(clk),
                .rst(rst),
                .in_valid(d_v && d_last),
                .in_ready(),
                .in_data(erow_next),
                .out_valid(f1_valid),
                .out_ready(n_load),
                .out_data(f1_row)
            );
            assign f1_pop = f1_valid && n_load;
            always_comb begin : c_ngroup
                ngrp = n_e[0+:L*EW];
                for (int gi = 1; gi < G; gi++) begin
                    if (ng == GW'(gi)) ngrp = n_e[gi*L*EW+:L*EW];
                end
            end
        end
    endgenerate

    always_ff @(posedge clk) begin
        if (n_load) begin
            n_inv <= inv_rom[f1_idx];
            n_sh <= f1_sh;
            n_zero <= f1_zero;
        end
        s0_inv <= n_inv;  // the lanes' reciprocal operand, stage 0
        s0_sh <= n_sh;
        s1_sh <= s0_sh;
        s0_zero <= n_zero;
        s1_zero <= s0_zero;
        s2_zero <= s1_zero;
        s0_last <= n_last;
        s1_last <= s0_last;
        s2_last <= s1_last;
    end

    always_ff @(posedge clk) begin
        if (rst) begin
            n_valid <= 1'b0;
            ng <= '0;
            {ng0, ngl} <= {1'b1, G == 1};
            occ2 <= '0;
            s0_v <= 1'b0;
            s1_v <= 1'b0;
            s2_v <= 1'b0;
        end else begin
            if (n_load) n_valid <= 1'b1;
            else if (n_last) n_valid <= 1'b0;
            if (n_issue) begin
                ng <= ngl ? '0 : ng + 1'b1;
                {ng0, ngl} <= {ngl, G == 1 || (!ngl && ng == GW'(G - 2))};
            end
            occ2 <= occ2 + CRW'(n_issue && ng0) - CRW'(out_pop);
            s0_v <= n_issue;
            s1_v <= s0_v;
            s2_v <= s1_v;
        end
    end

    generate
        for (genvar l = 0; l < L; l++) begin : g_norm
            logic signed [EE-1:0] eo, s0_eo;
            logic signed [IE-1:0] io;
            logic signed [PW-1:0] pr, s1_pr;
            logic [YW-1:0] yc;
            if (ES) begin : g_es
                assign eo = ngrp[l*EW+:EW];
            end else begin : g_eu
                assign eo = {1'b0, ngrp[l*EW+:EW]};
            end
            if (IS) begin : g_is
                assign io = s0_inv;
            end else begin : g_iu
                assign io = {1'b0, s0_inv};
            end
            // the operands registered (stage 0: no path from F1's or the reciprocal ROM's read into
            // the multiplier), the product (stage 1)
            always_ff @(posedge clk) s0_eo <= eo;
            assign pr = s0_eo * io;
            hlsgen_castreg #(
                .IW(PW), .IF(WF), .IS(1'b1), .OW(YW), .OF(YF), .OS(YS), .RND(Y_RND), .OVF(Y_OVF),
                .SHMAX(SHMAX), .SHW(SHW)
            ) u_cast (
                .clk(clk),
                .x(s1_pr),
                .sh(s1_sh),
                .y(yc)
            );
            always_ff @(posedge clk) begin
                s1_pr <= pr;
            end
            assign ylanes[l*YW+:YW] = s2_zero ? '0 : yc;
        end
    endgenerate

    generate
        if (GOUT) begin : g_gout
            localparam int SO = OUT_DEPTH + 1;  // row slots: the OUT_DEPTH rows of the FIFO, the taken row
            localparam int SOW = $clog2(SO);
            localparam int OCW = $clog2(OUT_DEPTH + 1);
            logic [SOW-1:0] ow, oc;  // the slot being written, the taken row's slot
            logic [GW-1:0] og;  // the group being written: the groups come in order
            logic [OCW-1:0] rows;  // whole rows not taken yet
            always_ff @(posedge clk) begin
                if (rst) begin
                    og <= '0;
                    rows <= '0;
                end else begin
                    if (s2_v) og <= s2_last ? '0 : og + 1'b1;
                    rows <= rows + OCW'(s2_v && s2_last) - OCW'(out_pop);
                end
            end
            hlsgen_ram #(
                .W(L * YW), .DEPTH(SO << GW)
            ) u_orow (
                .clk(clk),
                .we(s2_v),
                .waddr({ow, og}),
                .wdata(ylanes),
                .re(out_gre),
                .raddr({oc, GW'(out_gaddr)}),
                .rdata(out_gdata)
            );
            hlsgen_slots #(
                .S(SO)
            ) u_oslots (
                .clk(clk),
                .rst(rst),
                .wdone(s2_v && s2_last),
                .load(out_pop),
                .w(ow),
                .head(),
                .cur(oc)
            );
            assign out_valid = rows != '0;
            assign out_pop = out_valid && out_ready;
            assign out_data = '0;
        end else begin : g_rowout
            hlsgen_rowout #(
                .N(N),
                .L(L),
                .YW(YW),
                .OUT_DEPTH(OUT_DEPTH),
                .RAM(RAM)
            ) u_out (
                .clk(clk),
                .rst(rst),
                .we(s2_v),
                .lanes(ylanes),
                .push(s2_v && s2_last),
                .pop(out_pop),
                .out_valid(out_valid),
                .out_ready(out_ready),
                .out_data(out_data)
            );
            assign out_gdata = '0;
        end
    endgenerate
endmodule
