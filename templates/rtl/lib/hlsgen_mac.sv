// hlsgen RTL library: the PE x SIMD multiply-accumulate shared by hlsgen_linear, hlsgen_scores and
// hlsgen_context. Lane (p, s) multiplies x[s] (the same SIMD operands for every PE) by w[p*SIMD + s];
// unsigned operands are widened by one zero bit, so every product is exact and signed. PN narrows the
// products and the sum that follows them where the caller knows a bound (hlsgen_linear's constant
// weights): the bits above it are copies of the sign.
//
// Two register stages, driven by the caller's pipeline valids: the products are registered when
// `mul_en` is high (stage 2); the PE sums of SIMD products are added into `acc` when `acc_en` is high
// (stage 3), starting again from zero when `first` is high (the first group of a dot product).
// With LV > 0 the SIMD products are summed in a tree registered every LV levels (hlsgen_tree): `acc_en`
// and `first` are delayed inside by its ceil(ceil(log2 SIMD) / LV) stages, so `acc` is that many cycles
// later than with LV = 0 (a plain sum in the accumulate stage). With OREG the operands are registered
// once more when `mul_en` is high, and the products a cycle later (the DSP48E2's A / B registers: no
// path runs from a memory's read register or a multiplexer into a multiplier), one stage more. TS counts
// both: `acc` is TS cycles later than with LV = 0 and no OREG.
module hlsgen_mac #(
    parameter int PE = 1,
    parameter int SIMD = 1,
    parameter int XW = 8,
    parameter bit XS = 1'b1,
    parameter int WW = 8,
    parameter bit WS = 1'b1,
    parameter int AW = 16,  // accumulator width per PE
    parameter int LV = 0,  // levels of the SIMD sum between registers (0: summed in the accumulate stage)
    parameter int PN = 0,  // bits every product fits in (constant weights: their bound); 0: XE + WE
    parameter bit OREG = 1'b0  // the operands registered before the products (one stage more)
) (
    input  logic                  clk,
    input  logic                  mul_en,
    input  logic                  acc_en,
    input  logic                  first,
    input  logic [SIMD*XW-1:0]    x,
    input  logic [PE*SIMD*WW-1:0] w,
    output logic [PE*AW-1:0]      acc
);
    localparam int XE = XW + (XS ? 0 : 1);  // operands as signed numbers
    localparam int WE = WW + (WS ? 0 : 1);
    localparam int PW = (PN > 0) ? PN : XE + WE;  // a product, signed (exact: XE + WE bits at most)
    // sum of SIMD products: a partial sum of the accumulator's, so never wider than AW
    localparam int SW = (PW + $clog2(SIMD + 1) < AW) ? PW + $clog2(SIMD + 1) : AW;
    localparam int TLS = (SIMD > 1) ? $clog2(SIMD) : 0;
    localparam int TS = ((LV > 0) ? (TLS + LV - 1) / ((LV > 0) ? LV : 1) : 0) + int'(OREG);

    logic [PE*SIMD*PW-1:0] prod;
    logic acc_en_d, first_d;
    logic pen;  // the products' register enable
    logic [SIMD*XW-1:0] xr;
    logic [PE*SIMD*WW-1:0] wr;

    generate
        if (OREG) begin : g_oreg
            always_ff @(posedge clk) begin
                pen <= mul_en;
                if (mul_en) begin
                    xr <= x;
                    wr <= w;
                end
            end
        end else begin : g_no_oreg
            assign pen = mul_en;
            assign xr = x;
            assign wr = w;
        end
    endgenerate

    hlsgen_delay #(
        .W(2), .D(TS)
    ) u_en (
        .clk(clk),
        .x({acc_en, first}),
        .y({acc_en_d, first_d})
    );

    generate
        for (genvar p = 0; p < PE; p++) begin : g_pe
            for (genvar s = 0; s < SIMD; s++) begin : g_simd
                logic signed [XE-1:0] xo;
                logic signed [WE-1:0] wo;
                if (XS) begin : g_xs
                    assign xo = xr[s*XW+:XW];
                end else begin : g_xu
                    assign xo = {1'b0, xr[s*XW+:XW]};
                end
                if (WS) begin : g_ws
                    assign wo = wr[(p*SIMD+s)*WW+:WW];
                end else begin : g_wu
                    assign wo = {1'b0, wr[(p*SIMD+s)*WW+:WW]};
                end
                always_ff @(posedge clk) begin
                    if (pen) prod[(p*SIMD+s)*PW+:PW] <= PW'(xo * wo);
                end
            end
            logic signed [SW-1:0] sum;
            if (LV > 0) begin : g_tree
                hlsgen_tree #(
                    .N(SIMD), .W(PW), .S(1'b1), .OW(SW), .OP(0), .LV(LV)
                ) u_sum (
                    .clk(clk),
                    .x(prod[p*SIMD*PW+:SIMD*PW]),
                    .keep('1),
                    .y(sum),
                    .y_keep()
                );
            end else begin : g_chain
                always_comb begin
                    sum = '0;
                    for (int s = 0; s < SIMD; s++) begin
                        sum = sum + SW'($signed(prod[(p*SIMD+s)*PW+:PW]));
                    end
                end
            end
            always_ff @(posedge clk) begin
                if (acc_en_d) acc[p*AW+:AW] <= (first_d ? '0 : acc[p*AW+:AW]) + AW'(sum);
            end
        end
    endgenerate
endmodule
