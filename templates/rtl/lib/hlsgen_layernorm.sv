// hlsgen RTL library: layer normalisation over rows of D values, as hlsgen.ir.ops.layernorm.LayerNorm,
// pipelined so that the long lanes (the row sum, the sum of squares, the normalisation) pass a register
// every few LUT levels:
//
//   P (as a row arrives): the row enters FIFO F0; sum(x) in a balanced tree registered every LV levels
//                        (hlsgen_tree); mean = cast(sum * C) to the mean type (C = 1/D: SC_RAW * 2^-SC_F),
//                        the product registered; the mean enters FIFO F0M RP = TP + 2 cycles after the row
//   E (L lanes a cycle): xc = x - mean, exact in the diff type (DF fractional bits), registered, then xc^2
//                        registered (no carry chain before the multiplier in its cycle; in halves, one
//                        cycle more, where xc is wider than 18 bits: SQS, hlsgen_mul2);
//                        the L squares summed in a tree (TE stages); ss = exact sum over the row's groups;
//                        the row of xc enters FIFO F1 with its last group; var = cast(ss * C) to the
//                        variance type (the product in two registered halves, each within one DSP48E2,
//                        then their registered sum); p = leading one of var (hlsgen_lead, two
//                        registered steps); below 2^M: address var, k = K_SUB; else address
//                        (p - M + 1) * 2^M + the M bits below p, k = ceil((p - VF) / 2); address and
//                        shift enter FIFO F1B six cycles after F1 (the halves, their sum, variance, the
//                        leading one's two steps and the address each registered)
//   N (on entry):        inv = T[address] (ROM, read synchronously)
//     (L lanes a cycle, 7 stages; 8 where xc * inv is wider than one DSP48E2 and goes in halves, NSP):
//                        xc and inv registered | pr = xc * inv | norm = cast(pr << (KSH0 -
//                        k)) from the wide type (WF fractional bits), split by a register
//                        (hlsgen_castreg: 2 stages) | m = norm * gamma | z = m + beta | y = cast(z)
//                        into the row buffer (hlsgen_castreg); no multiplier has a multiplexer, a
//                        memory read or a carry chain beside it in its cycle
//
// A row spends G = ceil(D / L) cycles issuing in E and G in N, so rows follow each other every G
// cycles; the FIFOs hold F0D = RP + 2 and F1D = RE + 2 rows, reserved as a row is accepted (F0) and as
// its first group issues in E (F1) and in N (the output FIFO, OUT_DEPTH rows), so the pipeline never
// stalls in_row. A row leaves RP + 1 + G + RE + 1 + G + 5 cycles after it was accepted when nothing waits.
module hlsgen_layernorm #(
    parameter int D = 4,
    parameter int L = 1,
    parameter int XW = 8,
    parameter int XF = 0,
    parameter bit XS = 1'b1,
    parameter int SUMW = 10,
    parameter int SCW = 1,
    parameter int SC_F = 2,
    parameter logic [SCW-1:0] SC_RAW = '1,
    parameter int MW = 10,
    parameter int MF = 2,
    parameter bit MS = 1'b1,
    parameter int M_RND = 0,
    parameter int M_OVF = 0,
    parameter int DW = 11,
    parameter int DF = 2,
    parameter int SQW = 30,
    parameter int VW = 26,
    parameter int VF = 18,
    parameter int V_RND = 0,
    parameter int V_OVF = 0,
    parameter int M = 8,
    parameter int K_SUB = 0,
    parameter int TW = 18,
    parameter T_FILE = "",  // $readmemh file of the 1/sqrt table: (VW-M+1)*2^M lines of TW bits
    parameter int KSH0 = 0,
    parameter int KMIN = 0,
    parameter int WF = 0,
    parameter int NW = 20,
    parameter int NF = 14,
    parameter bit NS = 1'b1,
    parameter int N_RND = 0,
    parameter int N_OVF = 0,
    parameter int GW = 16,
    parameter int GF = 10,
    parameter bit GS = 1'b1,
    parameter logic [D*GW-1:0] G_INIT = '0,
    parameter int BW = 16,
    parameter int BF = 10,
    parameter bit BS = 1'b1,
    parameter logic [D*BW-1:0] B_INIT = '0,
    parameter int ZW = 40,
    parameter int ZF = 24,
    parameter int YW = 16,
    parameter int YF = 12,
    parameter bit YS = 1'b1,
    parameter int Y_RND = 0,
    parameter int Y_OVF = 0,
    parameter int OUT_DEPTH = 2,
    parameter int LV = 1,  // levels of the adder trees between registers (0: unregistered trees)
    parameter int MODEL_RP = -1,  // RP and RE as the renderer's timing model states them (-1: unchecked)
    parameter int MODEL_RE = -1
) (
    input  logic            clk,
    input  logic            rst,
    input  logic            in_valid,
    output logic            in_ready,
    input  logic [D*XW-1:0] in_data,
    output logic            out_valid,
    input  logic            out_ready,
    output logic [D*YW-1:0] out_data
);
    localparam int G = (D + L - 1) / L;
    localparam int NP = G * L;
    localparam int GCW = (G > 1) ? $clog2(G) : 1;
    localparam logic [GCW-1:0] G_LAST = GCW'(G - 1);
    localparam int XE = XW + (XS ? 0 : 1);
    localparam int MPW = SUMW + SCW + 1;
    localparam int VPW = SQW + SCW + 1;
    localparam int VLO = (SQW < 17) ? SQW : 17;  // the low half of ss: 17 unsigned bits fill an 18-bit port
    localparam int TSIZE = (VW - M + 1) * (2 ** M);
    localparam int TAW = $clog2(TSIZE);
    localparam int PCW = $clog2(VW + 1);
    localparam int SHMAX = KSH0 - KMIN;
    localparam int SHW = $clog2(SHMAX + 1) + 1;
    localparam int PRW = DW + TW + 1;
    localparam int GE = GW + (GS ? 0 : 1);
    localparam int BE = BW + (BS ? 0 : 1);
    localparam int CRW = $clog2(OUT_DEPTH + 2);
    // pipeline: tree latencies (as hlsgen_tree), P's wait, E's lane-to-F1 delay, F1's rows, N's wait
    localparam int TLP = (D > 1) ? $clog2(D) : 0;
    localparam int TLE = (L > 1) ? $clog2(L) : 0;
    localparam int TP = (LV > 0) ? (TLP + LV - 1) / ((LV > 0) ? LV : 1) : 0;
    localparam int TE = (LV > 0) ? (TLE + LV - 1) / ((LV > 0) ? LV : 1) : 0;
    localparam int RP = TP + 2;  // accept to the mean in F0M
    localparam int F0D = RP + 2;
    // products wider than one DSP48E2 (27 x 18 signed) in two halves (hlsgen_mul2), one stage more each:
    // the square of a centred value (SQS) and N's product with the 1/sqrt (NSP)
    localparam int SQS = (DW > 18) ? 1 : 0;
    localparam int NLO = (TW + 1 <= 18) ? 26 : 17;  // the centred value's low half beside the 1/sqrt
    localparam int NSP = ((DW <= 27 && TW + 1 <= 18) || (DW <= 18 && TW + 1 <= 27) || DW <= NLO) ? 0 : 1;
    localparam int RE = 2 + SQS + TE + 6;  // issue to the 1/sqrt address in F1B (centred, squared: 2 stages)
    localparam int F1D = RE + 2;
    // the timing model (hlsgen.backends.rtl.render_norm) states RP and RE too: elaboration stops where
    // it disagrees with this pipeline (Verilator with -Werror-USERERROR, Yosys), not a cosim's cycle count
    if ((MODEL_RP >= 0 && MODEL_RP != RP) || (MODEL_RE >= 0 && MODEL_RE != RE)) begin : g_model_differs
        $error("hlsgen_layernorm: the timing model's RP %0d / RE %0d are not the pipeline's %0d / %0d",
               MODEL_RP, MODEL_RE, RP, RE);
    end
    localparam int C0W = $clog2(F0D + 2);
    localparam int C1W = $clog2(F1D + 2);

    // ---- P: the row into F0 as it arrives; its sum in a tree, the mean into F0M RP - 1 cycles later ----------
    logic p_acc, f0m_valid, e_load, p_vd;
    logic [D*XW-1:0] p_x;
    logic [NP*XW-1:0] f0_x;
    logic [SUMW-1:0] p_sum;
    logic signed [MPW-1:0] p_msum;
    logic [MW-1:0] mean_c, f0_mean;
    logic [C0W-1:0] occ0;

    assign in_ready = occ0 < C0W'(F0D);
    assign p_acc = in_valid && in_ready;

    always_ff @(posedge clk) begin
        if (rst) occ0 <= '0;
        else occ0 <= occ0 + C0W'(p_acc) - C0W'(e_load);
    end

    hlsgen_fifo #(
        .W(NP * XW),
        .DEPTH(F0D)
    ) u_f0 (
        .clk(clk),
        .rst(rst),
        .in_valid(p_acc),
        .in_ready(),
        .in_data((NP * XW)'(in_data)),
        .out_valid(),
        .out_ready(e_load),
        .out_data(f0_x)
    );

    always_ff @(posedge clk) begin
        p_x <= in_data;
        p_msum <= MPW'($signed(p_sum)) * MPW'({1'b0, SC_RAW});
    end

    hlsgen_tree #(
        .N(D), .W(XW), .S(XS), .OW(SUMW), .OP(0), .LV(LV)
    ) u_sum (
        .clk(clk),
        .x(p_x),
        .keep('1),
        .y(p_sum),
        .y_keep()
    );

    hlsgen_cast #(
        .IW(MPW), .IF(XF + SC_F), .IS(1'b1), .OW(MW), .OF(MF), .OS(MS), .RND(M_RND), .OVF(M_OVF)
    ) u_mean (
        .x(p_msum),
        .y(mean_c)
    );

    // the accept bit beside the sum: p_x (1), the tree (TP), the product (1)
    logic [RP-1:0] pv;
    always_ff @(posedge clk) begin
        if (rst) pv <= '0;
        else pv <= RP'({pv, p_acc});
    end
    assign p_vd = pv[RP-1];

    hlsgen_fifo #(
        .W(MW),
        .DEPTH(F0D)
    ) u_f0m (
        .clk(clk),
        .rst(rst),
        .in_valid(p_vd),
        .in_ready(),
        .in_data(mean_c),
        .out_valid(f0m_valid),
        .out_ready(e_load),
        .out_data(f0_mean)
    );

    // ---- E: centred values and their squares, L lanes a cycle; the sum of squares ---------------------
    logic e_valid, e_issue, e_last, f1_valid, f1_pop, n_load;
    logic [NP*XW-1:0] e_x;
    logic [MW-1:0] e_mean;
    logic [GCW-1:0] eg;
    logic [C1W-1:0] occ1;
    logic [L*XW-1:0] egx;
    logic [L*DW-1:0] xlanes, e1_xc, d_xc;
    logic [L*SQW-1:0] sqlanes, e1_sq;
    logic [L*DW-1:0] e0_xc;  // the centred group registered (stage 0) before its squares (stage 1)
    logic [L-1:0] inlanes, e0_in;
    logic e0_v, e0_first, e0_last, e1_v, e1_first, e1_last, d_v, d_first, d_last;
    logic [SQW-1:0] tsq, ess, ess_next;
    logic [NP*DW-1:0] erow_next;

    assign e_issue = e_valid && (eg != '0 || occ1 < C1W'(F1D));
    assign e_last = e_issue && eg == G_LAST;
    assign e_load = f0m_valid && (!e_valid || e_last);

    always_comb begin : c_egroup
        egx = e_x[0+:L*XW];
        for (int gi = 1; gi < G; gi++) begin
            if (eg == GCW'(gi)) egx = e_x[gi*L*XW+:L*XW];
        end
    end

    generate
        for (genvar l = 0; l < L; l++) begin : g_centre
            logic signed [XE-1:0] xo;
            logic signed [MW:0] mo;
            logic signed [DW-1:0] xc;
            if (XS) begin : g_xs
                assign xo = egx[l*XW+:XW];
            end else begin : g_xu
                assign xo = {1'b0, egx[l*XW+:XW]};
            end
            if (MS) begin : g_ms
                assign mo = (MW + 1)'($signed(e_mean));
            end else begin : g_mu
                assign mo = {1'b0, e_mean};
            end
            assign xc = (DW'(xo) <<< (DF - XF)) - (DW'(mo) <<< (DF - MF));
            // lanes beyond D hold the padding zeros of e_x minus the mean: leave them out of the sum
            assign inlanes[l] = (32'(eg) * L + l) < D;
            assign xlanes[l*DW+:DW] = xc;
        end
        for (genvar l = 0; l < L; l++) begin : g_square
            logic signed [DW-1:0] c;
            logic signed [2*DW-1:0] sq;
            assign c = e0_xc[l*DW+:DW];
            if (SQS > 0) begin : g_sq2
                // in halves: the square 2 cycles after e0_xc, its lane flag delayed beside it; the tree
                // takes these (registered in hlsgen_mul2) instead of e1_sq
                logic i1, i2;
                always_ff @(posedge clk) begin
                    i1 <= e0_in[l];
                    i2 <= i1;
                end
                hlsgen_mul2 #(
                    .XW(DW), .XS(1'b1), .CW(DW), .PW(2 * DW), .LO(17)
                ) u_sq2 (
                    .clk(clk),
                    .en(1'b1),
                    .x(c),
                    .c(c),
                    .y(sq)
                );
                assign sqlanes[l*SQW+:SQW] = i2 ? SQW'(sq) : '0;
            end else begin : g_sq1
                assign sq = c * c;
                assign sqlanes[l*SQW+:SQW] = e0_in[l] ? SQW'(sq) : '0;
            end
        end
    endgenerate

    always_ff @(posedge clk) begin
        if (e_load) begin
            e_x <= f0_x;
            e_mean <= f0_mean;
        end
        e0_xc <= xlanes;
        e0_in <= inlanes;
        e0_first <= eg == '0;
        e0_last <= eg == G_LAST;
        e1_xc <= e0_xc;
        e1_sq <= sqlanes;
        e1_first <= e0_first;
        e1_last <= e0_last;
    end

    always_ff @(posedge clk) begin
        if (rst) begin
            e_valid <= 1'b0;
            eg <= '0;
            occ1 <= '0;
            e0_v <= 1'b0;
            e1_v <= 1'b0;
        end else begin
            if (e_load) e_valid <= 1'b1;
            else if (e_last) e_valid <= 1'b0;
            if (e_issue) eg <= (eg == G_LAST) ? '0 : eg + 1'b1;
            occ1 <= occ1 + C1W'(e_issue && eg == '0) - C1W'(f1_pop);
            e0_v <= e_issue;
            e1_v <= e0_v;
        end
    end

    hlsgen_tree #(
        .N(L), .W(SQW), .S(1'b0), .OW(SQW), .OP(0), .LV(LV)
    ) u_sq (
        .clk(clk),
        .x((SQS > 0) ? sqlanes : e1_sq),
        .keep('1),
        .y(tsq),
        .y_keep()
    );

    hlsgen_vdelay #(
        .W(L * DW + 2), .D(TE + SQS)
    ) u_edelay (
        .clk(clk),
        .rst(rst),
        .v(e1_v),
        .x({e1_xc, e1_first, e1_last}),
        .vy(d_v),
        .y({d_xc, d_first, d_last})
    );

    assign ess_next = (d_first ? '0 : ess) + tsq;

    always_ff @(posedge clk) begin
        if (d_v) ess <= ess_next;
    end

    // the row of centred values: a shift register (the groups come in order, 0 to G - 1, each once), so
    // that after G groups group g sits at [g*L*DW +: L*DW]; no multiplexer picks a group's place
    generate
        if (G > 1) begin : g_erow
            logic [(G-1)*L*DW-1:0] erow;  // the groups so far, the latest at the top
            assign erow_next = {d_xc, erow};
            always_ff @(posedge clk) begin
                if (d_v) erow <= erow_next[NP*DW-1:L*DW];
            end
        end else begin : g_erow1
            assign erow_next = d_xc;
        end
    endgenerate

    // the row of centred values into F1 with its last group; the variance and its 1/sqrt address follow
    // into F1B six cycles later (the product's halves, their sum, the cast, the leading one's two steps,
    // the address)
    logic [NP*DW-1:0] f1_row;
    logic f1b_valid, v1, v2, v3, v4, v5, v6;
    logic [SQW-1:0] v_ss;
    logic signed [VPW-1:0] v_prod;
    logic [VW-1:0] var_c, var_q;
    logic [TAW-1:0] taddr, f1_taddr;
    logic [SHW-1:0] sh_c, f1_sh;

    hlsgen_fifo #(
        .W(NP * DW),
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

    // ss * C in two halves of ss (the low VLO bits and the rest), each product within one DSP48E2 (a
    // wider ss made one product of two DSPs and the carry chain joining them), summed in the next cycle
    hlsgen_mul2 #(
        .XW(SQW), .XS(1'b0), .CW(SCW + 1), .PW(VPW), .LO(VLO)
    ) u_vmul (
        .clk(clk),
        .en(1'b1),
        .x(v_ss),
        .c({1'b0, SC_RAW}),
        .y(v_prod)
    );

    hlsgen_cast #(
        .IW(VPW), .IF(2 * DF + SC_F), .IS(1'b1), .OW(VW), .OF(VF), .OS(1'b0), .RND(V_RND), .OVF(V_OVF)
    ) u_var (
        .x(v_prod),
        .y(var_c)
    );

    // the leading one of the variance in two registered steps; the variance waits beside it
    logic [PCW-1:0] p_q;
    logic [VW-1:0] var_q2, var_q3;
    hlsgen_lead #(
        .W(VW), .PW(PCW)
    ) u_lead (
        .clk(clk),
        .x(var_q),
        .p(p_q)
    );

    always_comb begin : c_lookup
        logic [VW-1:0] vs;
        int e, k, seg;
        e = 0;
        if (int'(p_q) >= M) begin
            seg = int'(p_q) - M + 1;
            vs = var_q3 >> (int'(p_q) - M);
            e = int'(p_q) - VF;
            k = (e >= 0) ? (e + 1) / 2 : -((-e) / 2);  // ceil(e / 2)
        end else begin
            seg = 0;
            vs = var_q3;
            k = K_SUB;
        end
        taddr = TAW'(seg * (2 ** M)) + TAW'(vs[M-1:0]);
        sh_c = SHW'(KSH0 - k);
    end

    always_ff @(posedge clk) begin
        if (d_v && d_last) v_ss <= ess_next;
        var_q <= var_c;
        var_q2 <= var_q;
        var_q3 <= var_q2;
    end

    always_ff @(posedge clk) begin
        if (rst) begin
            v1 <= 1'b0;
            v2 <= 1'b0;
            v3 <= 1'b0;
            v4 <= 1'b0;
            v5 <= 1'b0;
            v6 <= 1'b0;
        end else begin
            v1 <= d_v && d_last;
            v2 <= v1;
            v3 <= v2;
            v4 <= v3;
            v5 <= v4;
            v6 <= v5;
        end
    end

    hlsgen_fifo #(
        .W(TAW + SHW),
        .DEPTH(F1D)
    ) u_f1b (
        .clk(clk),
        .rst(rst),
        .in_valid(v6),
        .in_ready(),
        .in_data({taddr, sh_c}),
        .out_valid(f1b_valid),
        .out_ready(n_load),
        .out_data({f1_taddr, f1_sh})
    );

    // ---- N: the 1/sqrt table read as the row loads, then L lanes a cycle --------------------------------
    logic n_valid, n_issue, n_last, out_pop;
    logic [NP*DW-1:0] n_xc;
    logic [TW-1:0] n_inv;
    logic [SHW-1:0] n_sh;
    logic [GCW-1:0] ng;
    logic [CRW-1:0] occ2;

    assign n_issue = n_valid && (ng != '0 || occ2 < CRW'(OUT_DEPTH));
    assign n_last = n_issue && ng == G_LAST;
    assign n_load = f1b_valid && (!n_valid || n_last);

    logic [TW-1:0] trom[TSIZE];
    initial $readmemh(T_FILE, trom);

    always_ff @(posedge clk) begin
        if (n_load) begin
            n_xc <= f1_row;
            n_inv <= trom[f1_taddr];
            n_sh <= f1_sh;
        end
    end

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

    // ---- N lanes: operands | product | shift and cast | gamma | beta | cast into the row buffer ---------
    logic [L*DW-1:0] ngx;
    logic [L*GW-1:0] ngg;
    logic [L*BW-1:0] ngb;
    logic [NP*GW-1:0] gpad;
    logic [NP*BW-1:0] bpad;
    logic [SHW-1:0] s0_sh, s1_sh, s2_sh;
    logic [TW-1:0] s0_inv;  // the lanes' 1/sqrt operand, stage 0 (one register the lanes share)
    // the group's tags beside the lanes, index = stage (1 .. 7, NSP more where the product is in halves):
    // valid, last; gamma to 4 (+ NSP), beta to 5 (+ NSP)
    localparam int NV = 7 + NSP;
    logic [NV:1] s_v, s_last;
    logic [L*GW-1:0] s_gm[1:4+NSP];
    logic [L*BW-1:0] s_bt[1:5+NSP];
    logic [L*YW-1:0] ylanes;
    assign gpad = (NP * GW)'(G_INIT);
    assign bpad = (NP * BW)'(B_INIT);

    always_comb begin : c_ngroup
        ngx = n_xc[0+:L*DW];
        ngg = gpad[0+:L*GW];
        ngb = bpad[0+:L*BW];
        for (int gi = 1; gi < G; gi++) begin
            if (ng == GCW'(gi)) begin
                ngx = n_xc[gi*L*DW+:L*DW];
                ngg = gpad[gi*L*GW+:L*GW];
                ngb = bpad[gi*L*BW+:L*BW];
            end
        end
    end

    always_ff @(posedge clk) begin
        s0_sh <= n_sh;
        s1_sh <= s0_sh;
        s2_sh <= s1_sh;
        s0_inv <= n_inv;
        s_last <= {s_last[NV-1:1], n_last};
        s_gm[1] <= ngg;
        s_bt[1] <= ngb;
        for (int k = 2; k <= 4 + NSP; k++) s_gm[k] <= s_gm[k-1];
        for (int k = 2; k <= 5 + NSP; k++) s_bt[k] <= s_bt[k-1];
    end

    always_ff @(posedge clk) begin
        if (rst) s_v <= '0;
        else s_v <= {s_v[NV-1:1], n_issue};
    end

    generate
        for (genvar l = 0; l < L; l++) begin : g_norm
            logic signed [DW-1:0] xc, s0_xc;
            logic signed [TW:0] io;
            logic signed [PRW-1:0] prq;  // the product, registered (stage 1; stage 2 in halves)
            logic [NW-1:0] nrm, s3_nrm;
            logic signed [NW:0] no;
            logic signed [GE-1:0] go;
            logic signed [BE-1:0] bo;
            logic signed [ZW-1:0] z, s5_m, s6_z;
            assign xc = ngx[l*DW+:DW];
            assign io = {1'b0, s0_inv};
            // the operands registered (stage 0: no path from the group multiplexer or the 1/sqrt ROM's
            // read into the multiplier), the product (stage 1)
            always_ff @(posedge clk) s0_xc <= xc;
            if (NSP > 0) begin : g_pr2
                hlsgen_mul2 #(
                    .XW(DW), .XS(1'b1), .CW(TW + 1), .PW(PRW), .LO(NLO)
                ) u_pr2 (
                    .clk(clk),
                    .en(1'b1),
                    .x(s0_xc),
                    .c(io),
                    .y(prq)
                );
            end else begin : g_pr1
                always_ff @(posedge clk) prq <= PRW'(s0_xc) * PRW'(io);
            end
            hlsgen_castreg #(
                .IW(PRW), .IF(WF), .IS(1'b1), .OW(NW), .OF(NF), .OS(NS), .RND(N_RND), .OVF(N_OVF),
                .SHMAX(SHMAX), .SHW(SHW)
            ) u_norm (
                .clk(clk),
                .x(prq),
                .sh((NSP > 0) ? s2_sh : s1_sh),
                .y(nrm)
            );
            if (NS) begin : g_ns
                assign no = (NW + 1)'($signed(s3_nrm));
            end else begin : g_nu
                assign no = {1'b0, s3_nrm};
            end
            if (GS) begin : g_gs
                assign go = s_gm[4+NSP][l*GW+:GW];
            end else begin : g_gu
                assign go = {1'b0, s_gm[4+NSP][l*GW+:GW]};
            end
            if (BS) begin : g_bs
                assign bo = s_bt[5+NSP][l*BW+:BW];
            end else begin : g_bu
                assign bo = {1'b0, s_bt[5+NSP][l*BW+:BW]};
            end
            // gamma's product registered (stage 5) before beta's sum (stage 6): no carry chain behind
            // the multiplier
            assign z = (s5_m <<< (ZF - NF - GF)) + (ZW'(bo) <<< (ZF - BF));
            always_ff @(posedge clk) begin
                s3_nrm <= nrm;
                s5_m <= ZW'(no) * ZW'(go);
                s6_z <= z;
            end
            hlsgen_castreg #(
                .IW(ZW), .IF(ZF), .IS(1'b1), .OW(YW), .OF(YF), .OS(YS), .RND(Y_RND), .OVF(Y_OVF)
            ) u_y (
                .clk(clk),
                .x(s6_z),
                .sh(1'b0),
                .y(ylanes[l*YW+:YW])
            );
        end
    endgenerate

    hlsgen_rowout #(
        .N(D),
        .L(L),
        .YW(YW),
        .OUT_DEPTH(OUT_DEPTH)
    ) u_out (
        .clk(clk),
        .rst(rst),
        .we(s_v[NV]),
        .lanes(ylanes),
        .push(s_v[NV] && s_last[NV]),
        .pop(out_pop),
        .out_valid(out_valid),
        .out_ready(out_ready),
        .out_data(out_data)
    );
endmodule
