// hlsgen RTL library: y = x W + b for a stream of rows (the matrix-vector engine of Linear), W dense or
// block diagonal.
//
// BLOCKS diagonal blocks (1 = dense): block b maps inputs [b*BI, (b+1)*BI) to outputs [b*BO, (b+1)*BO)
// (BI = N_IN / BLOCKS, BO = N_OUT / BLOCKS); the zero blocks are neither stored nor multiplied.
// PE x SIMD multipliers: each cycle, SIMD inputs of the current row times the weights of PE outputs of
// one block. A row takes BLOCKS * NI * NO cycles (NI = ceil(BI / SIMD), NO = ceil(BO / PE)), back to back
// between rows; the result of a row leaves 5 + TS cycles after its last weight read (ROM read, product,
// TS stages of the SIMD sum tree (hlsgen_mac, LV) and OREG's operand register, accumulate, cast, row
// buffer). Weights sit in a ROM of BLOCKS * NO * NI words of PE * SIMD weights (address
// o * NI + i, o = b * NO + output group; lane pe * SIMD + s holds W_b[i * SIMD + s][o' * PE + pe] of
// block b, o' the group within the block, zero beyond the block), loaded from W_FILE ($readmemh, one word
// a line) and read synchronously. The sum is exact;
// the only rounding is the cast of (sum << PSH) + (b << BSH) (the accumulator's fractional bits ACC_F)
// to the output type. Credits keep the output FIFO from overflowing, so the pipeline never stalls: a row
// takes its credit with its last issue (the issue that completes it), which waits while OUT_DEPTH rows
// are complete or in flight and not yet taken; the issues before it do not wait. A row of r issues then
// needs one slot where r >= the stages after the last issue + 2 (the next row's last issue comes r
// cycles later, after the row was taken), so a 1-row FIFO of registers keeps the rate where a reader
// takes a row at once (hlsgen.backends.rtl.design: shallow_outputs).
module hlsgen_linear #(
    parameter int N_IN = 4,
    parameter int N_OUT = 4,
    parameter int SIMD = 2,
    parameter int PE = 2,
    parameter int XW = 8,
    parameter bit XS = 1'b1,
    parameter int WW = 8,
    parameter bit WS = 1'b1,
    parameter bit HAS_BIAS = 1'b1,
    parameter int BW = 8,
    parameter bit BS = 1'b1,
    parameter int PSH = 0,
    parameter int BSH = 0,
    parameter int ACC_F = 0,
    parameter int YW = 8,
    parameter int YF = 0,
    parameter bit YS = 1'b1,
    parameter int Y_RND = 0,
    parameter int Y_OVF = 0,
    parameter int OUT_DEPTH = 2,
    parameter int BLOCKS = 1,
    parameter int BI = N_IN / BLOCKS,
    parameter int BO = N_OUT / BLOCKS,
    parameter int NI = (BI + SIMD - 1) / SIMD,
    parameter int NO = (BO + PE - 1) / PE,
    parameter W_FILE = "",  // $readmemh file of the weight ROM: BLOCKS*NO*NI lines of PE*SIMD*WW bits
    parameter logic [BLOCKS*NO*PE*BW-1:0] B_INIT = '0,  // bias of output group o at [o*PE*BW +: PE*BW]
    parameter int LV = 0,  // levels of the SIMD sum tree between registers (0: no tree registers)
    parameter bit OREG = 1'b0,  // operands registered before the products (hlsgen_mac): a stage more
    parameter bit W_BRAM = 1'b0,  // the weight ROM in block RAM (rom_style "block") rather than LUTs
    // bits of every product and of every partial sum of a row, from the actual weights (0: the widths any
    // weights of WW bits need): the reference's exact accumulator bound, so nothing wraps
    parameter int PN = 0,
    parameter int ACW = 0
) (
    input  logic                  clk,
    input  logic                  rst,
    input  logic                  in_valid,
    output logic                  in_ready,
    input  logic [N_IN*XW-1:0]    in_data,
    output logic                  out_valid,
    input  logic                  out_ready,
    output logic [N_OUT*YW-1:0]   out_data
);
    localparam int XE = XW + (XS ? 0 : 1);  // operands as signed numbers
    localparam int WE = WW + (WS ? 0 : 1);
    localparam int PW = XE + WE;
    localparam int AW = (ACW > 0) ? ACW : PW + $clog2(NI * SIMD + 1) + 1;  // every partial sum of a row
    localparam int BE = BW + (BS ? 0 : 1);
    localparam int FW = ((AW + PSH > BE + BSH) ? AW + PSH : BE + BSH) + 1;
    localparam int NOG = BLOCKS * NO;  // output groups of a row
    localparam int NXG = BLOCKS * NI;  // input groups of a row (each block padded to whole groups)
    localparam int NPAD = (BLOCKS - 1) * NO * PE + BO;  // a row with each block but the last padded
    localparam int DEPTH = NOG * NI;
    localparam int ADW = (DEPTH > 1) ? $clog2(DEPTH) : 1;
    localparam int ICW = (NI > 1) ? $clog2(NI) : 1;
    localparam int OCW = (NOG > 1) ? $clog2(NOG) : 1;
    localparam int XCW = (NXG > 1) ? $clog2(NXG) : 1;
    localparam int CRW = $clog2(OUT_DEPTH + 2);
    localparam logic [ICW-1:0] I_LAST = ICW'(NI - 1);
    localparam logic [OCW-1:0] O_LAST = OCW'(NOG - 1);
    localparam int TLS = (SIMD > 1) ? $clog2(SIMD) : 0;
    localparam int TS = ((LV > 0) ? (TLS + LV - 1) / ((LV > 0) ? LV : 1) : 0) + int'(OREG);


    // ---- issue: one (o, i) group per cycle ---------------------------------------------------------
    logic cur_valid;
    logic [NXG*SIMD*XW-1:0] xpad;
    logic [SIMD*XW-1:0] xcur[NXG];  // the current row in groups of SIMD inputs
    logic [ICW-1:0] ic;
    logic [OCW-1:0] oc;  // output group of the row
    logic [XCW-1:0] xb;  // first input group of its block
    logic [CRW-1:0] occ;  // rows whose last group issued and not yet taken from the output FIFO
    logic room;  // occ < OUT_DEPTH, a register beside occ (no compare on the accept path)
    logic row_end, issue, row_done, last_i, last_o, fifo_push, fifo_pop;
    logic [ADW-1:0] addr;
    logic [ICW-1:0] ic_n;
    logic [OCW-1:0] oc_n;

    // the row's last group as a registered flag (the accept path reads no counter compare)
    assign last_i = ic == I_LAST;
    assign last_o = oc == O_LAST;
    assign ic_n = last_i ? '0 : ic + 1'b1;
    assign oc_n = last_i ? (last_o ? '0 : oc + 1'b1) : oc;
    assign issue = cur_valid && (!row_end || room);
    assign row_done = issue && row_end;
    assign in_ready = !cur_valid || row_done;
    assign addr = ADW'(oc) * ADW'(NI) + ADW'(ic);

    // the inputs of each block padded with zeros to whole SIMD groups
    generate
        for (genvar b = 0; b < BLOCKS; b++) begin : g_xpad
            assign xpad[b*NI*SIMD*XW+:BI*XW] = in_data[b*BI*XW+:BI*XW];
            if (NI * SIMD > BI) begin : g_zero
                assign xpad[b*NI*SIMD*XW+BI*XW+:(NI*SIMD-BI)*XW] = '0;
            end
        end
    endgenerate

    always_ff @(posedge clk) begin
        if (in_valid && in_ready) begin
            for (int k = 0; k < NXG; k++) xcur[k] <= xpad[k*SIMD*XW+:SIMD*XW];
        end
    end

    // the block of the output group: its first input group
    generate
        if (BLOCKS > 1) begin : g_blocks
            localparam int BCW = (NO > 1) ? $clog2(NO) : 1;
            localparam logic [BCW-1:0] OB_LAST = BCW'(NO - 1);
            logic [BCW-1:0] ob;  // output group within its block
            always_ff @(posedge clk) begin
                if (rst) begin
                    ob <= '0;
                    xb <= '0;
                end else if (issue && last_i) begin
                    ob <= (ob == OB_LAST) ? '0 : ob + 1'b1;
                    if (last_o) xb <= '0;
                    else if (ob == OB_LAST) xb <= xb + XCW'(NI);
                end
            end
        end else begin : g_dense
            assign xb = '0;
        end
    endgenerate

    always_ff @(posedge clk) begin
        if (rst) begin
            cur_valid <= 1'b0;
            ic <= '0;
            oc <= '0;
            occ <= '0;
            room <= 1'b1;
            row_end <= NI == 1 && NOG == 1;
        end else begin
            if (in_valid && in_ready) cur_valid <= 1'b1;
            else if (row_done) cur_valid <= 1'b0;
            if (issue) begin
                ic <= ic_n;
                oc <= oc_n;
                row_end <= ic_n == I_LAST && oc_n == O_LAST;
            end
            occ <= occ + CRW'(row_done) - CRW'(fifo_pop);
            // a row completes only with room (occ < OUT_DEPTH), so the next occ is below OUT_DEPTH unless
            // occ is OUT_DEPTH - 1: a compare of occ, not through the sum
            if (row_done && !fifo_pop) room <= occ != CRW'(OUT_DEPTH - 1);
            else if (fifo_pop && !row_done) room <= 1'b1;
        end
    end

    // ---- stage 1: weights and inputs of the group --------------------------------------------------
    logic v1, first1, last1;
    logic [OCW-1:0] o1;
    logic [SIMD*XW-1:0] xg1;
    logic [PE*SIMD*WW-1:0] wg1;

    always_ff @(posedge clk) begin
        if (issue) begin
            xg1 <= xcur[32'(ic)+32'(xb)];
            first1 <= ic == '0;
            last1 <= last_i;
            o1 <= oc;
        end
    end

    // ---- the weight ROM, read into stage 1: block RAM where it is deep (W_BRAM), else LUTs ----------
    generate
        if (W_BRAM) begin : g_wbram
            (* rom_style = "block" *) logic [PE*SIMD*WW-1:0] rom[DEPTH];
            initial $readmemh(W_FILE, rom);
            always_ff @(posedge clk) begin
                if (issue) wg1 <= rom[addr];
            end
        end else begin : g_wlut
            logic [PE*SIMD*WW-1:0] rom[DEPTH];
            initial $readmemh(W_FILE, rom);
            always_ff @(posedge clk) begin
                if (issue) wg1 <= rom[addr];
            end
        end
    endgenerate

    // ---- stage 2: products; stage 3: accumulate ------------------------------------------------------
    logic v2, first2, last2, v3, last3;
    logic [OCW-1:0] o2, o3;
    logic [PE*AW-1:0] acc;

    hlsgen_mac #(
        .PE(PE), .SIMD(SIMD), .XW(XW), .XS(XS), .WW(WW), .WS(WS), .AW(AW), .LV(LV), .PN(PN), .OREG(OREG)
    ) u_mac (
        .clk(clk),
        .mul_en(v1),
        .acc_en(v2),
        .first(first2),
        .x(xg1),
        .w(wg1),
        .acc(acc)
    );

    // the group's tags beside the SIMD sum tree (TS stages)
    logic v2d, last2d;
    logic [OCW-1:0] o2d;
    hlsgen_vdelay #(
        .W(1 + OCW), .D(TS)
    ) u_tags (
        .clk(clk),
        .rst(rst),
        .v(v2),
        .x({last2, o2}),
        .vy(v2d),
        .y({last2d, o2d})
    );

    always_ff @(posedge clk) begin
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

    // ---- stage 4: bias, cast, row assembly -----------------------------------------------------------
    logic [PE*YW-1:0] yslots;
    logic [PE*BW-1:0] bsel;

    // the bias of output group o3 (hlsgen_pick: a variable part select o3*PE*BW, whose factor is no power
    // of two, would be a multiplier to synthesis: a DSP48E2 and 7 LUT levels)
    hlsgen_pick #(.G(BLOCKS * NO), .W(PE * BW), .SW(OCW)) u_bias (.x(B_INIT), .sel(o3), .y(bsel));

    generate
        for (genvar p = 0; p < PE; p++) begin : g_out
            logic signed [FW-1:0] fin;
            logic signed [BE-1:0] bo;
            if (!HAS_BIAS) begin : g_nob
                assign bo = '0;
            end else if (BS) begin : g_bs
                assign bo = bsel[p*BW+:BW];
            end else begin : g_bu
                assign bo = {1'b0, bsel[p*BW+:BW]};
            end
            assign fin = (FW'($signed(acc[p*AW+:AW])) <<< PSH) + (FW'(bo) <<< BSH);
            hlsgen_cast #(
                .IW(FW), .IF(ACC_F), .IS(1'b1), .OW(YW), .OF(YF), .OS(YS), .RND(Y_RND), .OVF(Y_OVF)
            ) u_cast (
                .x(fin),
                .y(yslots[p*YW+:YW])
            );
        end
    endgenerate

    // ---- stage 5: the cast lanes registered, into the row buffer ---------------------------------------
    logic v4, last4;
    logic [OCW-1:0] o4;
    logic [PE*YW-1:0] y4;
    always_ff @(posedge clk) begin
        y4 <= yslots;
        last4 <= last3;
        o4 <= o3;
    end

    always_ff @(posedge clk) begin
        if (rst) begin
            v1 <= 1'b0;
            v2 <= 1'b0;
            v3 <= 1'b0;
            v4 <= 1'b0;
        end else begin
            v1 <= issue;
            v2 <= v1;
            v3 <= v2d;
            v4 <= v3;
        end
    end

    assign fifo_push = v4 && last4 && (o4 == O_LAST);

    logic [NPAD*YW-1:0] opad;

    hlsgen_rowout #(
        .N(NPAD),
        .L(PE),
        .YW(YW),
        .OUT_DEPTH(OUT_DEPTH)
    ) u_out (
        .clk(clk),
        .rst(rst),
        .we(v4 && last4),
        .lanes(y4),
        .push(fifo_push),
        .pop(fifo_pop),
        .out_valid(out_valid),
        .out_ready(out_ready),
        .out_data(opad)
    );

    // drop the padding of the blocks
    generate
        for (genvar b = 0; b < BLOCKS; b++) begin : g_out_block
            assign out_data[b*BO*YW+:BO*YW] = opad[b*NO*PE*YW+:BO*YW];
        end
    endgenerate
endmodule
