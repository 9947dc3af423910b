// hlsgen RTL library: layer normalisation over rows of D values, as hlsgen.ir.ops.layernorm.LayerNorm:
//
//   P (input register):  mean = cast(sum(x) * C) to the mean type (C = 1/D: SC_RAW * 2^-SC_F)
//   E (L lanes a cycle): xc = x - mean, exact in the diff type (DF fractional bits); ss = exact sum of xc^2
//   N (on entry):        var = cast(ss * C) to the variance type; p = leading one of var;
//                        below 2^M: address var, k = K_SUB; else address (p - M + 1) * 2^M + the M bits
//                        below p, k = ceil((p - VF) / 2); inv = T[address] (ROM, read synchronously)
//     (L lanes a cycle): norm = cast((xc * inv) << (KSH0 - k)) from the wide type (WF fractional bits);
//                        y = cast(norm * gamma + beta)
//
// A row spends G = ceil(D / L) cycles in E and G in N; rows follow each other every G cycles and leave
// 2G + 3 cycles after they entered P when nothing waits.
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
    parameter int OUT_DEPTH = 2
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
    localparam int TSIZE = (VW - M + 1) * (2 ** M);
    localparam int TAW = $clog2(TSIZE);
    localparam int PCW = $clog2(VW + 1);
    localparam int SHMAX = KSH0 - KMIN;
    localparam int SHW = $clog2(SHMAX + 1) + 1;
    localparam int PRW = DW + TW + 1;
    localparam int WX = PRW + SHMAX + 1;
    localparam int GE = GW + (GS ? 0 : 1);
    localparam int BE = BW + (BS ? 0 : 1);
    localparam int CRW = $clog2(OUT_DEPTH + 2);

    // ---- P: input register and the mean -------------------------------------------------------------
    logic p_valid, e_load;
    logic [NP*XW-1:0] p_x;
    logic [MW-1:0] p_mean, mean_in;
    logic signed [SUMW-1:0] sum_in;
    logic signed [MPW-1:0] msum;

    always_comb begin
        sum_in = '0;
        for (int j = 0; j < D; j++) begin
            sum_in = sum_in + (XS ? SUMW'($signed(in_data[j*XW+:XW])) : SUMW'(in_data[j*XW+:XW]));
        end
    end
    assign msum = MPW'(sum_in) * MPW'({1'b0, SC_RAW});

    hlsgen_cast #(
        .IW(MPW), .IF(XF + SC_F), .IS(1'b1), .OW(MW), .OF(MF), .OS(MS), .RND(M_RND), .OVF(M_OVF)
    ) u_mean (
        .x(msum),
        .y(mean_in)
    );

    assign in_ready = !p_valid || e_load;

    always_ff @(posedge clk) begin
        if (in_valid && in_ready) begin
            p_x <= (NP * XW)'(in_data);
            p_mean <= mean_in;
        end
    end

    always_ff @(posedge clk) begin
        if (rst) p_valid <= 1'b0;
        else if (in_valid && in_ready) p_valid <= 1'b1;
        else if (e_load) p_valid <= 1'b0;
    end

    // ---- E: centred values and the sum of squares --------------------------------------------------------
    logic e_valid, e_issue, e_last, f1_valid, f1_pop, n_load;
    logic [NP*XW-1:0] e_x;
    logic [MW-1:0] e_mean;
    logic [GCW-1:0] eg;
    logic [CRW-1:0] occ1;
    logic [NP*DW-1:0] erow, erow_next;
    logic [SQW-1:0] ess, ess_next;
    logic [L*DW-1:0] xlanes;
    logic [L*SQW-1:0] sqlanes;

    assign e_issue = e_valid && (eg != '0 || occ1 < CRW'(2));
    assign e_last = e_issue && eg == G_LAST;
    assign e_load = p_valid && (!e_valid || e_last);

    generate
        for (genvar l = 0; l < L; l++) begin : g_centre
            logic signed [XE-1:0] xo;
            logic signed [MW:0] mo;
            logic signed [DW-1:0] xc;
            logic signed [2*DW-1:0] sq;
            if (XS) begin : g_xs
                assign xo = e_x[(eg*L+l)*XW+:XW];
            end else begin : g_xu
                assign xo = {1'b0, e_x[(eg*L+l)*XW+:XW]};
            end
            if (MS) begin : g_ms
                assign mo = (MW + 1)'($signed(e_mean));
            end else begin : g_mu
                assign mo = {1'b0, e_mean};
            end
            assign xc = (DW'(xo) <<< (DF - XF)) - (DW'(mo) <<< (DF - MF));
            assign sq = xc * xc;
            assign xlanes[l*DW+:DW] = xc;
            assign sqlanes[l*SQW+:SQW] = SQW'(sq);
        end
    endgenerate

    always_comb begin
        ess_next = (eg == '0) ? '0 : ess;
        for (int l = 0; l < L; l++) begin
            // lanes beyond D hold the padding zeros of e_x minus the mean: leave them out of the sum
            if (32'(eg) * L + l < D) ess_next = ess_next + sqlanes[l*SQW+:SQW];
        end
        erow_next = erow;
        erow_next[eg*L*DW+:L*DW] = xlanes;
    end

    always_ff @(posedge clk) begin
        if (e_load) begin
            e_x <= p_x;
            e_mean <= p_mean;
        end
        if (e_issue) begin
            erow <= erow_next;
            ess <= ess_next;
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

    logic [NP*DW+SQW-1:0] f1_data;
    hlsgen_fifo #(
        .W(NP * DW + SQW),
        .DEPTH(2)
    ) u_f1 (
        .clk(clk),
        .rst(rst),
        .in_valid(e_last),
        .in_ready(),
        .in_data({ess_next, erow_next}),
        .out_valid(f1_valid),
        .out_ready(n_load),
        .out_data(f1_data)
    );
    assign f1_pop = f1_valid && n_load;

    // ---- N: variance, 1/sqrt table, normalise, gamma and beta -------------------------------------------------
    logic signed [VPW-1:0] vprod;
    logic [VW-1:0] var_in;
    logic [TAW-1:0] taddr;
    logic [SHW-1:0] sh_in;

    assign vprod = VPW'(f1_data[NP*DW+:SQW]) * VPW'({1'b0, SC_RAW});
    hlsgen_cast #(
        .IW(VPW), .IF(2 * DF + SC_F), .IS(1'b1), .OW(VW), .OF(VF), .OS(1'b0), .RND(V_RND), .OVF(V_OVF)
    ) u_var (
        .x(vprod),
        .y(var_in)
    );

    always_comb begin : c_lookup
        logic [PCW-1:0] p;
        logic [VW-1:0] vs;
        int e, k, seg;
        p = '0;
        e = 0;
        for (int b = 1; b < VW; b++) begin
            if (var_in[b]) p = PCW'(b);
        end
        if (int'(p) >= M) begin
            seg = int'(p) - M + 1;
            vs = var_in >> (int'(p) - M);
            e = int'(p) - VF;
            k = (e >= 0) ? (e + 1) / 2 : -((-e) / 2);  // ceil(e / 2)
        end else begin
            seg = 0;
            vs = var_in;
            k = K_SUB;
        end
        taddr = TAW'(seg * (2 ** M)) + TAW'(vs[M-1:0]);
        sh_in = SHW'(KSH0 - k);
    end

    logic [TW-1:0] trom[TSIZE];
    initial $readmemh(T_FILE, trom);

    logic n_valid, n_issue, n_last, out_pop;
    logic [NP*DW-1:0] n_xc;
    logic [TW-1:0] n_inv;
    logic [SHW-1:0] n_sh;
    logic [GCW-1:0] ng;
    logic [CRW-1:0] occ2;
    logic [L*YW-1:0] ylanes;

    assign n_issue = n_valid && (ng != '0 || occ2 < CRW'(OUT_DEPTH));
    assign n_last = n_issue && ng == G_LAST;
    assign n_load = f1_valid && (!n_valid || n_last);

    always_ff @(posedge clk) begin
        if (n_load) begin
            n_xc <= f1_data[NP*DW-1:0];
            n_inv <= trom[taddr];
            n_sh <= sh_in;
        end
    end

    logic [NP*GW-1:0] gpad;
    logic [NP*BW-1:0] bpad;
    assign gpad = (NP * GW)'(G_INIT);
    assign bpad = (NP * BW)'(B_INIT);

    generate
        for (genvar l = 0; l < L; l++) begin : g_norm
            logic signed [DW-1:0] xc;
            logic signed [TW:0] io;
            logic signed [PRW-1:0] pr;
            logic signed [WX-1:0] w;
            logic [NW-1:0] nrm;
            logic signed [NW:0] no;
            logic signed [GE-1:0] go;
            logic signed [BE-1:0] bo;
            logic signed [ZW-1:0] z;
            assign xc = n_xc[(ng*L+l)*DW+:DW];
            assign io = {1'b0, n_inv};
            assign pr = PRW'(xc) * PRW'(io);
            assign w = WX'(pr) <<< n_sh;
            hlsgen_cast #(
                .IW(WX), .IF(WF), .IS(1'b1), .OW(NW), .OF(NF), .OS(NS), .RND(N_RND), .OVF(N_OVF)
            ) u_norm (
                .x(w),
                .y(nrm)
            );
            if (NS) begin : g_ns
                assign no = (NW + 1)'($signed(nrm));
            end else begin : g_nu
                assign no = {1'b0, nrm};
            end
            if (GS) begin : g_gs
                assign go = gpad[(ng*L+l)*GW+:GW];
            end else begin : g_gu
                assign go = {1'b0, gpad[(ng*L+l)*GW+:GW]};
            end
            if (BS) begin : g_bs
                assign bo = bpad[(ng*L+l)*BW+:BW];
            end else begin : g_bu
                assign bo = {1'b0, bpad[(ng*L+l)*BW+:BW]};
            end
            assign z = ((ZW'(no) * ZW'(go)) <<< (ZF - NF - GF)) + (ZW'(bo) <<< (ZF - BF));
            hlsgen_cast #(
                .IW(ZW), .IF(ZF), .IS(1'b1), .OW(YW), .OF(YF), .OS(YS), .RND(Y_RND), .OVF(Y_OVF)
            ) u_y (
                .x(z),
                .y(ylanes[l*YW+:YW])
            );
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

    hlsgen_rowout #(
        .N(D),
        .L(L),
        .YW(YW),
        .OUT_DEPTH(OUT_DEPTH)
    ) u_out (
        .clk(clk),
        .rst(rst),
        .we(n_issue),
        .slot(ng),
        .lanes(ylanes),
        .push(n_last),
        .pop(out_pop),
        .out_valid(out_valid),
        .out_ready(out_ready),
        .out_data(out_data)
    );
endmodule
