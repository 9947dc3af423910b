// hlsgen RTL library: y = x * c exactly, for a product wider than one DSP48E2 takes (27 x 18 signed,
// where Yosys would join two DSPs' partial products with a carry chain in the same cycle). The low LO
// bits of x (unsigned) and the rest (x >> LO, signed where x is) are each multiplied by the signed c and
// registered, each within one DSP for LO of 17 (x's 18-bit port) or 26 (its 27-bit port beside a c of
// at most 18 bits); the two are added in a second register: y is 2 cycles after x and c, both stages
// enabled by `en`. Shared by hlsgen_layernorm (the variance), hlsgen_scores (the scale product, SC_SPLIT)
// and hlsgen_avgpool (the mean).
module hlsgen_mul2 #(
    parameter int XW = 32,
    parameter bit XS = 1'b1,  // x signed
    parameter int CW = 18,  // c, signed
    parameter int PW = XW + CW,  // y, signed: at least the exact product's bits
    parameter int LO = 17  // x's low bits multiplied apart (at most XW)
) (
    input  logic                 clk,
    input  logic                 en,
    input  logic [XW-1:0]        x,
    input  logic signed [CW-1:0] c,
    output logic signed [PW-1:0] y
);
    logic signed [PW-1:0] lo, hi, ce, plo, phi;  // x = hi * 2^LO + lo, each extended to PW bits

    assign lo = PW'($signed({1'b0, x[LO-1:0]}));
    assign ce = PW'(c);
    generate
        if (XS) begin : g_signed
            assign hi = PW'($signed(x) >>> LO);
        end else begin : g_unsigned
            assign hi = PW'($signed({1'b0, x} >> LO));
        end
    endgenerate

    always_ff @(posedge clk) begin
        if (en) begin
            plo <= lo * ce;
            phi <= hi * ce;
            y <= plo + (phi <<< LO);
        end
    end
endmodule
