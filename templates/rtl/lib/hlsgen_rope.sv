// hlsgen RTL library: rotary position embedding over a stream of rows (hlsgen.ir.ops.decode.RoPE).
//
// A row holds NH heads of HD values. In each head, values i and i + HALF (i < HALF = RD/2, the half-split
// pairing) rotate by the angle of the row's position p: y[i] = cast(a*c - b*s), y[i+HALF] = cast(b*c + a*s)
// with a = x[i], b = x[i+HALF], c = cos[p][i], s = sin[p][i]; values from RD on are cast unchanged. The
// products (XE + TE bits, operands signed, unsigned ones widened by a zero bit) and their sum or
// difference (one bit more, SF = XF + TF fractional bits) are exact, so each value has the one cast of the
// reference.
//
// Position: DECODE 0 (prefill), row t of each sequence of T rows is at position t. DECODE 1, the first row
// of a sequence is taken together with one row of the pos stream (an unsigned POSW-bit integer) and is at
// that position; row t at pos + t. The tables are a ROM of N_POS words (T_FILE, $readmemh, one word a
// line): word p = {sin[p][HALF-1:0], cos[p][HALF-1:0]}, entry 0 in the LSBs, TW bits each; it is read
// when a row is accepted. Positions >= N_POS are outside the table (the reference refuses them).
//
// LANES pairs a cycle (4 * LANES multipliers): pair k = h * HALF + i of a row (k < NP = NH * HALF) is lane
// k % LANES of group k / LANES; a row issues its G = ceil(NP / LANES) groups on consecutive cycles, the next
// row is accepted in the last issue cycle, and the row leaves the cycle after the last group's products
// are registered (sum, cast and the write into the output FIFO happen in one cycle). The pass-through
// values are cast and carried along with group 0. Credits keep the output FIFO from overflowing.
module hlsgen_rope #(
    parameter int NH = 2,
    parameter int HD = 4,
    parameter int RD = 4,
    parameter int T = 4,
    parameter bit DECODE = 1'b0,
    parameter int N_POS = 4,
    parameter int POSW = 2,
    parameter int LANES = 4,
    parameter int XW = 8,
    parameter int XF = 0,
    parameter bit XS = 1'b1,
    parameter int TW = 8,
    parameter bit TS = 1'b1,
    parameter int SF = 0,
    parameter int YW = 8,
    parameter int YF = 0,
    parameter bit YS = 1'b1,
    parameter int Y_RND = 0,
    parameter int Y_OVF = 0,
    parameter int OUT_DEPTH = 2,
    parameter T_FILE = ""  // $readmemh file of the cos/sin ROM: N_POS lines of RD*TW bits
) (
    input  logic               clk,
    input  logic               rst,
    input  logic               x_valid,
    output logic               x_ready,
    input  logic [NH*HD*XW-1:0] x_data,
    input  logic               pos_valid,
    output logic               pos_ready,
    input  logic [POSW-1:0]    pos_data,
    output logic               out_valid,
    input  logic               out_ready,
    output logic [NH*HD*YW-1:0] out_data
);
    localparam int N = NH * HD;
    localparam int HALF = RD / 2;
    localparam int NP = NH * HALF;  // pairs in a row
    localparam int G = (NP + LANES - 1) / LANES;  // groups (cycles) per row
    localparam int NR = HD - RD;  // pass-through values per head
    localparam int XE = XW + (XS ? 0 : 1);  // operands as signed numbers
    localparam int TE = TW + (TS ? 0 : 1);
    localparam int PW = XE + TE;  // exact product
    localparam int SW = PW + 1;  // exact sum of two products
    localparam int PAW = (N_POS > 1) ? $clog2(N_POS) : 1;  // table address (POSW in decode)
    localparam int TCW = (T > 1) ? $clog2(T) : 1;
    localparam int GCW = (G > 1) ? $clog2(G) : 1;
    localparam int CRW = $clog2(OUT_DEPTH + 2);
    localparam logic [TCW-1:0] T_LAST = TCW'(T - 1);
    localparam logic [GCW-1:0] G_LAST = GCW'(G - 1);

    // ---- cos/sin ROM ---------------------------------------------------------------------------------
    logic [RD*TW-1:0] rom[N_POS];
    initial $readmemh(T_FILE, rom);

    // ---- accept: a row (with its position) when the engine is free -----------------------------------
    logic cur_valid, need_pos, take, issue, row_start, row_done, last_g, fifo_pop;
    logic [N*XW-1:0] xcur;
    logic [RD*TW-1:0] trow;
    logic [TCW-1:0] tc;  // row of the sequence
    logic [PAW-1:0] pnext, psel;  // position of the next row; of the row being accepted
    logic [GCW-1:0] gc;
    logic [CRW-1:0] occ;  // rows started and not yet taken from the output FIFO

    assign need_pos = DECODE && (tc == '0);
    assign take = x_valid && (!need_pos || pos_valid) && (!cur_valid || row_done);
    assign x_ready = take;
    assign pos_ready = take && need_pos;
    assign psel = (tc != '0) ? pnext : DECODE ? PAW'(pos_data) : '0;

    assign last_g = gc == G_LAST;
    assign row_start = gc == '0;
    assign issue = cur_valid && (!row_start || occ < CRW'(OUT_DEPTH));
    assign row_done = issue && last_g;

    always_ff @(posedge clk) begin
        if (take) begin
            xcur <= x_data;
            trow <= rom[psel];
            pnext <= psel + 1'b1;
        end
    end

    always_ff @(posedge clk) begin
        if (rst) begin
            cur_valid <= 1'b0;
            tc <= '0;
            gc <= '0;
            occ <= '0;
        end else begin
            if (take) begin
                cur_valid <= 1'b1;
                tc <= (tc == T_LAST) ? '0 : tc + 1'b1;
            end else if (row_done) begin
                cur_valid <= 1'b0;
            end
            if (issue) gc <= last_g ? '0 : gc + 1'b1;
            occ <= occ + CRW'(issue && row_start) - CRW'(fifo_pop);
        end
    end

    // ---- the operands in pair order (zero beyond NP) --------------------------------------------------
    logic [G*LANES*XW-1:0] xa, xb;
    logic [G*LANES*TW-1:0] tcos, tsin;

    generate
        for (genvar k = 0; k < G * LANES; k++) begin : g_pair
            if (k < NP) begin : g_on
                assign xa[k*XW+:XW] = xcur[((k/HALF)*HD+k%HALF)*XW+:XW];
                assign xb[k*XW+:XW] = xcur[((k/HALF)*HD+k%HALF+HALF)*XW+:XW];
                assign tcos[k*TW+:TW] = trow[(k%HALF)*TW+:TW];
                assign tsin[k*TW+:TW] = trow[(HALF+k%HALF)*TW+:TW];
            end else begin : g_off
                assign xa[k*XW+:XW] = '0;
                assign xb[k*XW+:XW] = '0;
                assign tcos[k*TW+:TW] = '0;
                assign tsin[k*TW+:TW] = '0;
            end
        end
    endgenerate

    // ---- stage 1: the four exact products of each lane; stage 2: sum, difference, cast ----------------
    logic v1;
    logic [GCW-1:0] g1;
    logic [LANES*YW-1:0] ya, yb;

    generate
        for (genvar l = 0; l < LANES; l++) begin : g_lane
            logic [XW-1:0] a, b;
            logic [TW-1:0] c, s;
            logic signed [XE-1:0] ao, bo;
            logic signed [TE-1:0] co, so;
            logic signed [PW-1:0] pac, pbs, pbc, pas;
            logic signed [SW-1:0] da, db;
            always_comb begin  // a G-way multiplexer (constant part-selects, no index arithmetic)
                a = '0;
                b = '0;
                c = '0;
                s = '0;
                for (int q = 0; q < G; q++) begin
                    if (gc == GCW'(q)) begin
                        a = xa[(q*LANES+l)*XW+:XW];
                        b = xb[(q*LANES+l)*XW+:XW];
                        c = tcos[(q*LANES+l)*TW+:TW];
                        s = tsin[(q*LANES+l)*TW+:TW];
                    end
                end
            end
            if (XS) begin : g_xs
                assign ao = a;
                assign bo = b;
            end else begin : g_xu
                assign ao = {1'b0, a};
                assign bo = {1'b0, b};
            end
            if (TS) begin : g_ts
                assign co = c;
                assign so = s;
            end else begin : g_tu
                assign co = {1'b0, c};
                assign so = {1'b0, s};
            end
            always_ff @(posedge clk) begin
                if (issue) begin
                    pac <= ao * co;
                    pbs <= bo * so;
                    pbc <= bo * co;
                    pas <= ao * so;
                end
            end
            assign da = SW'(pac) - SW'(pbs);
            assign db = SW'(pbc) + SW'(pas);
            hlsgen_cast #(
                .IW(SW), .IF(SF), .IS(1'b1), .OW(YW), .OF(YF), .OS(YS), .RND(Y_RND), .OVF(Y_OVF)
            ) u_cast_a (
                .x(da),
                .y(ya[l*YW+:YW])
            );
            hlsgen_cast #(
                .IW(SW), .IF(SF), .IS(1'b1), .OW(YW), .OF(YF), .OS(YS), .RND(Y_RND), .OVF(Y_OVF)
            ) u_cast_b (
                .x(db),
                .y(yb[l*YW+:YW])
            );
        end
    endgenerate

    always_ff @(posedge clk) begin
        if (issue) g1 <= gc;
    end

    always_ff @(posedge clk) begin
        if (rst) v1 <= 1'b0;
        else v1 <= issue;
    end

    // ---- the pass-through values: cast at the issue of group 0, written with it ----------------------
    logic [N*YW-1:0] row, row_next;

    generate
        if (NR > 0) begin : g_rest
            logic [NH*NR*YW-1:0] rest, rest1;
            for (genvar h = 0; h < NH; h++) begin : g_head
                for (genvar j = 0; j < NR; j++) begin : g_val
                    hlsgen_cast #(
                        .IW(XW), .IF(XF), .IS(XS), .OW(YW), .OF(YF), .OS(YS), .RND(Y_RND), .OVF(Y_OVF)
                    ) u_cast (
                        .x(xcur[(h*HD+RD+j)*XW+:XW]),
                        .y(rest[(h*NR+j)*YW+:YW])
                    );
                end
            end
            always_ff @(posedge clk) begin
                if (issue && row_start) rest1 <= rest;
            end
            always_comb begin
                row_next = row;
                for (int k = 0; k < NP; k++) begin
                    if (32'(g1) == k / LANES) begin
                        row_next[((k/HALF)*HD+k%HALF)*YW+:YW] = ya[(k%LANES)*YW+:YW];
                        row_next[((k/HALF)*HD+k%HALF+HALF)*YW+:YW] = yb[(k%LANES)*YW+:YW];
                    end
                end
                if (g1 == '0) begin
                    for (int h = 0; h < NH; h++) begin
                        for (int j = 0; j < NR; j++) row_next[(h*HD+RD+j)*YW+:YW] = rest1[(h*NR+j)*YW+:YW];
                    end
                end
            end
        end else begin : g_norest
            always_comb begin
                row_next = row;
                for (int k = 0; k < NP; k++) begin
                    if (32'(g1) == k / LANES) begin
                        row_next[((k/HALF)*HD+k%HALF)*YW+:YW] = ya[(k%LANES)*YW+:YW];
                        row_next[((k/HALF)*HD+k%HALF+HALF)*YW+:YW] = yb[(k%LANES)*YW+:YW];
                    end
                end
            end
        end
    endgenerate

    always_ff @(posedge clk) begin
        if (v1) row <= row_next;
    end

    hlsgen_fifo #(
        .W(N * YW),
        .DEPTH(OUT_DEPTH)
    ) u_out (
        .clk(clk),
        .rst(rst),
        .in_valid(v1 && g1 == G_LAST),
        .in_ready(),
        .in_data(row_next),
        .out_valid(out_valid),
        .out_ready(out_ready),
        .out_data(out_data)
    );
    assign fifo_pop = out_valid && out_ready;
endmodule
