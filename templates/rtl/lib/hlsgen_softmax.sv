// hlsgen RTL library: softmax over rows of N values, with an optional mask (1 = attend) repeated over
// every block of NQ rows. The arithmetic is hlsgen.ir.ops.softmax.Softmax.execute, step by step:
//
//   P (input register):  m = max of the kept x (the row's keep bits from the mask buffer)
//   E (L lanes a cycle): stable:  d = m - x, d' = (d + 2^(DROP-1)) >> DROP,
//                                 e = cast(EHI[d' >> LO] * ELO[d' & (2^LO - 1)]), 0 when d' >= 2^ADDR
//                                 (LO_CPL: ELO_INIT holds c = ELO - 2^EF <= 0, signed, and the product
//                                 is (EHI << EF) + EHI * c, the same integer with a narrower factor)
//                        latency: e = EXP[top TB bits of x, offset binary]
//                        e = 0 where masked; acc = exact sum of the row's e
//   N (L lanes a cycle): S = cast(acc) to the sum type; p = leading one of S (0 when S <= 1);
//                        r = INV[((S << IB) >> p) mod 2^IB]; t = clip(p - SF, TMIN, TMAX);
//                        y = cast((e * r) << (WSH0 - t)) from the wide type (WF fractional bits),
//                        0 when S == 0
//
// A row spends G = ceil(N / L) cycles in E and G in N, so rows follow each other every G cycles; a row
// leaves 2G + 3 cycles after it entered P when nothing waits. The exp tables are parameters (entry k at
// bits [k*EW +: EW], ELO_INIT's at [k*LW +: LW]); INV is a ROM loaded from INV_FILE ($readmemh) and read
// when a row enters N. Lanes are picked from a row by a multiplexer over the G groups (constant part
// selects: a variable index times a width is a multiplier, which synthesis may put on a DSP).
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
    parameter int OUT_DEPTH = 2
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
    output logic [N*YW-1:0] out_data
);
    localparam int G = (N + L - 1) / L;
    localparam int NP = G * L;  // row length padded to whole groups
    localparam int GW = (G > 1) ? $clog2(G) : 1;
    localparam logic [GW-1:0] G_LAST = GW'(G - 1);
    localparam int XE = XW + (XS ? 0 : 1);
    localparam int EE = EW + (ES ? 0 : 1);
    localparam int IE = IW + (IS ? 0 : 1);
    localparam int PW = EE + IE;
    localparam int SHMAX = WSH0 - TMIN;
    localparam int SHW = $clog2(SHMAX + 1) + 1;
    localparam int WX = PW + SHMAX + 1;
    localparam int CRW = $clog2(OUT_DEPTH + 2);
    localparam int PCW = (SW > 1) ? $clog2(SW) : 1;
    localparam int RCW = $clog2(ROWS + 1);
    localparam int QCW = $clog2(NQ + 1);

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

    // ---- P: input register and the row maximum over the kept values --------------------------------
    logic p_valid;
    logic [NP*XW-1:0] p_x;
    logic [NP-1:0] p_keep;
    logic [XW-1:0] p_m, m_in;
    logic e_load;

    always_comb begin : c_max
        logic signed [XE-1:0] best, v;
        best = XS ? {1'b1, {(XE - 1) {1'b0}}} : '0;  // the input type's minimum
        for (int j = 0; j < N; j++) begin
            v = XS ? XE'($signed(in_data[j*XW+:XW])) : XE'(in_data[j*XW+:XW]);
            if (keep_in[j] && v > best) best = v;
        end
        m_in = best[XW-1:0];
    end

    assign in_ready = (!p_valid || e_load) && mask_ok;

    always_ff @(posedge clk) begin
        if (in_valid && in_ready) begin
            p_x <= (NP * XW)'(in_data);
            p_keep <= NP'(keep_in);
            p_m <= m_in;
        end
    end

    always_ff @(posedge clk) begin
        if (rst) p_valid <= 1'b0;
        else if (in_valid && in_ready) p_valid <= 1'b1;
        else if (e_load) p_valid <= 1'b0;
    end

    // ---- E: exponentials, L lanes a cycle ------------------------------------------------------------
    logic e_valid;
    logic [NP*XW-1:0] e_x;
    logic [NP-1:0] e_keep;
    logic [XW-1:0] e_m;
    logic [GW-1:0] eg;
    logic [CRW-1:0] occ1;
    logic e_issue, e_last, f1_push, f1_pop, f1_valid, n_load;
    logic [NP*EW-1:0] erow, erow_next;
    logic [ACW-1:0] eacc, eacc_next;
    logic [L*EW-1:0] elanes;
    logic [L*XW-1:0] egx;
    logic [L-1:0] egk;

    always_comb begin : c_egroup
        egx = e_x[0+:L*XW];
        egk = e_keep[0+:L];
        for (int gi = 1; gi < G; gi++) begin
            if (eg == GW'(gi)) begin
                egx = e_x[gi*L*XW+:L*XW];
                egk = e_keep[gi*L+:L];
            end
        end
    end

    assign e_issue = e_valid && (eg != '0 || occ1 < CRW'(2));
    assign e_last = e_issue && eg == G_LAST;
    assign e_load = p_valid && (!e_valid || e_last);
    assign f1_push = e_last;

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
                logic [2*EW-1:0] prod;
                logic [EW-1:0] ecast, hi_e;
                logic [LW-1:0] lo_e;
                logic ok;
                if (XS) begin : g_ds
                    assign d = (XE + 1)'($signed(e_m)) - (XE + 1)'($signed(x));
                end else begin : g_du
                    assign d = (XE + 1)'(e_m) - (XE + 1)'(x);
                end
                assign dd = ($unsigned(d) + (XE + 1)'((1 << DROP) >> 1)) >> DROP;
                assign ok = k && ((dd >> ADDR) == '0);
                assign hi_e = EHI_INIT[dd[ADDR-1:LOB]*EW+:EW];
                assign lo_e = ELO_INIT[dd[LOB-1:0]*LW+:LW];
                if (LO_CPL) begin : g_pc
                    // hi * (2^EF + c) modulo 2^(2EW): exact, as the product itself fits in 2EW bits
                    localparam int HCW = (EW + LW + 1 < 2 * EW) ? EW + LW + 1 : 2 * EW;
                    logic signed [HCW-1:0] hc;
                    assign hc = $signed({1'b0, hi_e}) * $signed(lo_e);
                    assign prod = ((2 * EW)'(hi_e) << EF) + (2 * EW)'(hc);
                end else if (ES) begin : g_ps
                    assign prod = $signed(hi_e) * $signed(lo_e);
                end else begin : g_pu
                    assign prod = hi_e * lo_e;
                end
                hlsgen_cast #(
                    .IW(2 * EW), .IF(2 * EF), .IS(ES), .OW(EW), .OF(EF), .OS(ES), .RND(E_RND), .OVF(E_OVF)
                ) u_cast (
                    .x(prod),
                    .y(ecast)
                );
                assign e = ok ? ecast : '0;
            end else begin : g_latency
                logic [TB-1:0] idx;
                if (XS && TB == 1) begin : g_s1
                    assign idx = ~x[XW-1];
                end else if (XS) begin : g_s
                    assign idx = {~x[XW-1], x[XW-2-:TB-1]};
                end else begin : g_u
                    assign idx = x[XW-1-:TB];
                end
                assign e = k ? EXP_INIT[idx*EW+:EW] : '0;
            end
            assign elanes[l*EW+:EW] = e;
        end
    endgenerate

    always_comb begin
        eacc_next = (eg == '0) ? '0 : eacc;
        for (int l = 0; l < L; l++) begin
            eacc_next = eacc_next + (ES ? ACW'($signed(elanes[l*EW+:EW])) : ACW'(elanes[l*EW+:EW]));
        end
        erow_next = erow;
        for (int gi = 0; gi < G; gi++) begin
            if (eg == GW'(gi)) erow_next[gi*L*EW+:L*EW] = elanes;
        end
    end

    always_ff @(posedge clk) begin
        if (e_load) begin
            e_x <= p_x;
            e_keep <= p_keep;
            e_m <= p_m;
        end
        if (e_issue) begin
            erow <= erow_next;
            eacc <= eacc_next;
        end
    end

    always_ff @(posedge clk) begin
        if (rst) begin
            e_valid <= 1'b0;
            eg <= '0;
            occ1 <= '0;
        end else begin
            if (e_load) e_valid <= 1'b1;
            else if (e_last) e_valid <= 1'b0;
            if (e_issue) eg <= (eg == G_LAST) ? '0 : eg + 1'b1;
            occ1 <= occ1 + CRW'(e_issue && eg == '0) - CRW'(f1_pop);
        end
    end

    logic [NP*EW+ACW-1:0] f1_data;
    hlsgen_fifo #(
        .W(NP * EW + ACW),
        .DEPTH(2)
    ) u_f1 (
        .clk(clk),
        .rst(rst),
        .in_valid(f1_push),
        .in_ready(),
        .in_data({eacc_next, erow_next}),
        .out_valid(f1_valid),
        .out_ready(n_load),
        .out_data(f1_data)
    );
    assign f1_pop = f1_valid && n_load;

    // ---- N: sum, reciprocal, products, L lanes a cycle -----------------------------------------------
    logic [SW-1:0] s_in;
    logic [IB-1:0] idx_in;
    logic [SHW-1:0] sh_in;
    logic [PCW-1:0] p_in;

    hlsgen_cast #(
        .IW(ACW), .IF(EF), .IS(ES), .OW(SW), .OF(SF), .OS(1'b0), .RND(S_RND), .OVF(S_OVF)
    ) u_sum (
        .x(f1_data[NP*EW+:ACW]),
        .y(s_in)
    );

    always_comb begin : c_recip
        logic [SW+IB-1:0] mm;
        int t;
        p_in = '0;
        for (int b = 1; b < SW; b++) begin
            if (s_in[b]) p_in = PCW'(b);
        end
        mm = {s_in, {IB{1'b0}}} >> p_in;
        idx_in = mm[IB-1:0];
        t = int'(p_in) - SF;
        if (t < TMIN) t = TMIN;
        if (t > TMAX) t = TMAX;
        sh_in = SHW'(WSH0 - t);
    end

    logic [IW-1:0] inv_rom[2**IB];
    initial $readmemh(INV_FILE, inv_rom);

    logic n_valid, n_zero;
    logic [NP*EW-1:0] n_e;
    logic [IW-1:0] n_inv;
    logic [SHW-1:0] n_sh;
    logic [GW-1:0] ng;
    logic [CRW-1:0] occ2;
    logic n_issue, n_last, out_push, out_pop;
    logic [L*YW-1:0] ylanes;
    logic [L*EW-1:0] ngrp;

    always_comb begin : c_ngroup
        ngrp = n_e[0+:L*EW];
        for (int gi = 1; gi < G; gi++) begin
            if (ng == GW'(gi)) ngrp = n_e[gi*L*EW+:L*EW];
        end
    end

    assign n_issue = n_valid && (ng != '0 || occ2 < CRW'(OUT_DEPTH));
    assign n_last = n_issue && ng == G_LAST;
    assign n_load = f1_valid && (!n_valid || n_last);

    always_ff @(posedge clk) begin
        if (n_load) begin
            n_e <= f1_data[NP*EW-1:0];
            n_inv <= inv_rom[idx_in];
            n_sh <= sh_in;
            n_zero <= s_in == '0;
        end
    end

    generate
        for (genvar l = 0; l < L; l++) begin : g_norm
            logic signed [EE-1:0] eo;
            logic signed [IE-1:0] io;
            logic signed [PW-1:0] pr;
            logic signed [WX-1:0] w;
            logic [YW-1:0] yc;
            if (ES) begin : g_es
                assign eo = ngrp[l*EW+:EW];
            end else begin : g_eu
                assign eo = {1'b0, ngrp[l*EW+:EW]};
            end
            if (IS) begin : g_is
                assign io = n_inv;
            end else begin : g_iu
                assign io = {1'b0, n_inv};
            end
            assign pr = eo * io;
            assign w = WX'(pr) <<< n_sh;
            hlsgen_cast #(
                .IW(WX), .IF(WF), .IS(1'b1), .OW(YW), .OF(YF), .OS(YS), .RND(Y_RND), .OVF(Y_OVF)
            ) u_cast (
                .x(w),
                .y(yc)
            );
            assign ylanes[l*YW+:YW] = n_zero ? '0 : yc;
        end
    endgenerate

    always_ff @(posedge clk) begin
        if (rst) begin
            n_valid <= 1'b0;
            ng <= '0;
            occ2 <= '0;
        end else begin
            if (n_load) n_valid <= 1'b1;
            else if (n_last) n_valid <= 1'b0;
            if (n_issue) ng <= (ng == G_LAST) ? '0 : ng + 1'b1;
            occ2 <= occ2 + CRW'(n_issue && ng == '0) - CRW'(out_pop);
        end
    end

    assign out_push = n_last;
    hlsgen_rowout #(
        .N(N),
        .L(L),
        .YW(YW),
        .OUT_DEPTH(OUT_DEPTH)
    ) u_out (
        .clk(clk),
        .rst(rst),
        .we(n_issue),
        .slot(ng),
        .lanes(ylanes),
        .push(out_push),
        .pop(out_pop),
        .out_valid(out_valid),
        .out_ready(out_ready),
        .out_data(out_data)
    );
endmodule
