// hlsgen RTL library: the fixed-point cast of hlsgen_cast (hlsgen.fixed.convert) split by a register, for
// casts that follow deep logic: y is the cast of the x * 2^sh presented one cycle earlier (sh in
// [0, SHMAX]; SHMAX = 0: no shift, sh unused).
//
// With a shift, the floor and the first dropped bit are read from x << sh, and the sticky bit from x
// itself: the bits of x below RS - 1 - sh, under a mask that depends on sh alone (so the OR tree does not
// wait for the shifter).
//
// Stage 1 (before the register) drops the SH = IF - OF low bits, keeping what rounding reads of them: the
// first dropped bit qb and the sticky OR r of the rest. The register holds z = {floor, qb, r}, a value
// with OF + 2 fractional bits whose floor, first dropped bit and sticky bit are those of x, so that every
// rounding mode rounds z as it rounds x. Stage 2 (after the register) is hlsgen_cast of z: the rounding
// increment, the overflow mode. With SH < 2, z is x itself. Parameters and codes as hlsgen_cast.
module hlsgen_castreg #(
    parameter int IW = 16,
    parameter int IF = 8,
    parameter bit IS = 1'b1,
    parameter int OW = 16,
    parameter int OF = 8,
    parameter bit OS = 1'b1,
    parameter int RND = 0,
    parameter int OVF = 0,
    parameter int SHMAX = 0,
    parameter int SHW = 1
) (
    input  logic           clk,
    input  logic [IW-1:0]  x,
    input  logic [SHW-1:0] sh,
    output logic [OW-1:0]  y
);
    localparam int XW = IW + SHMAX;  // x << sh, at most
    localparam int RS = (IF - OF > 0) ? IF - OF : 0;  // LSBs dropped
    localparam bit STICKY = RS >= 2;
    localparam int EW = ((XW > RS) ? XW : RS) + 2;  // extended: every dropped bit index exists
    localparam int FP = (XW > RS) ? XW - RS : 1;  // bits of the floor that carry information
    localparam int ZW = STICKY ? FP + 2 : XW;
    localparam int ZF = STICKY ? OF + 2 : IF;

    logic [ZW-1:0] z_c, z;
    logic [EW-1:0] xe, xs;

    assign xe = {{(EW - IW) {IS & x[IW-1]}}, x};
    assign xs = (SHMAX > 0) ? xe << sh : xe;

    generate
        if (STICKY) begin : g_sticky
            logic [RS-2:0] keep;  // bit i of x lands below the first dropped bit: i + sh < RS - 1
            for (genvar i = 0; i < RS - 1; i++) begin : g_keep
                assign keep[i] = (SHMAX == 0) || (32'(sh) + i < RS - 1);
            end
            assign z_c = {xs[RS+:FP], xs[RS-1], |(xe[RS-2:0] & keep)};
        end else begin : g_plain
            assign z_c = xs[XW-1:0];
        end
    endgenerate

    always_ff @(posedge clk) z <= z_c;

    hlsgen_cast #(
        .IW(ZW), .IF(ZF), .IS(IS), .OW(OW), .OF(OF), .OS(OS), .RND(RND), .OVF(OVF)
    ) u_cast (
        .x(z),
        .y(y)
    );
endmodule
