// hlsgen RTL library: the latency strategy's cast (hlsgen.backends.rtl.unrolled.Net.cast), exactly
// hlsgen.fixed.convert of a SIGNED raw input for the overflow modes AP_WRAP without saturation bits, AP_SAT
// and AP_SAT_ZERO, every rounding mode. Built for delay: the range check does not wait for the rounding.
//
// x (IW bits, IF fractional, signed) becomes y (OW bits, OF fractional, signed when OS). With SH = IF - OF,
// SH <= 0 appends -SH zero LSBs; SH > 0 drops SH LSBs and the rounding mode's 0/1 increment
// (hlsgen_roundinc) goes into an OW-bit incrementer of the kept field only. The overflow is found in
// parallel on the floor fs (before the increment), as LUT reductions over its bits, never a comparison
// adder: the rounded value exceeds HI when fs > HI (fs not 0 in every bit above the output field) or when
// fs == HI and the increment is 1; it is below LO when fs < LO, except fs == LO - 1 with the increment 1.
// The output is one LUT level after the incrementer: HI, LO (0 for AP_SAT_ZERO) or the kept field.
//
// RND (ap_fixed quantization mode): 0 AP_TRN, 1 AP_TRN_ZERO, 2 AP_RND, 3 AP_RND_ZERO, 4 AP_RND_MIN_INF,
//                                   5 AP_RND_INF, 6 AP_RND_CONV
// MODE: 0 AP_WRAP (N = 0: the low OW bits), 1 AP_SAT, 2 AP_SAT_ZERO.
// CHK = 0: the planner proved from the input's exact range that the rounded value never leaves the output
// range, so no overflow logic is built (the mode is then irrelevant). Purely combinational.
module hlsgen_fastcast #(
    parameter int IW = 16,
    parameter int IF = 8,
    parameter int OW = 8,
    parameter int OF = 4,
    parameter bit OS = 1'b1,
    parameter int RND = 0,
    parameter int MODE = 1,
    parameter bit CHK = 1'b1
) (
    input  logic [IW-1:0] x,
    output logic [OW-1:0] y
);
    localparam int SH = IF - OF;
    localparam int LS = (SH < 0) ? -SH : 0;  // zero LSBs appended
    localparam int RS = (SH > 0) ? SH : 0;  // LSBs dropped
    localparam int XW = ((IW > RS + 1) ? IW : RS + 1) + 1;  // x sign-extended: every dropped bit exists
    localparam int FW = XW - RS;  // bits of the floor (>= 2)
    localparam int ZW = ((FW + LS > OW + 1) ? FW + LS : OW + 1) + 1;  // the floor, shifted, sign-extended

    logic [XW-1:0] xe;
    logic [FW-1:0] fl;
    logic [ZW-1:0] fe, fs;
    logic neg, inc;
    logic [OW-1:0] yr;

    assign xe = {{(XW - IW) {x[IW-1]}}, x};
    assign neg = xe[XW-1];
    assign fl = xe[XW-1:RS];
    assign fe = {{(ZW - FW) {fl[FW-1]}}, fl};
    assign fs = fe << LS;

    // the dropped bits (a one-bit placeholder when none are dropped) and the mode's increment
    localparam int DW = (RS > 0) ? RS : 1;
    logic [DW-1:0] dropped;
    assign dropped = xe[DW-1:0];
    hlsgen_roundinc #(.RS(RS), .RND(RND)) u_inc (.dropped(dropped), .neg(neg), .lsb(fs[0]), .inc(inc));

    // the kept field and its increment: an OW-bit incrementer (its carry out is not needed); none for
    // AP_TRN, whose increment is 0 (no adder for synthesis to keep)
    generate
        if (RND == 0) begin : g_trn
            assign yr = fs[OW-1:0];
        end else begin : g_inc
            assign yr = fs[OW-1:0] + OW'(inc);
        end
    endgenerate

    // overflow of the rounded value, from the floor's bits and the increment (LUT reductions)
    logic sgn, over, under;
    assign sgn = fs[ZW-1];
    generate
        if (OS) begin : g_signed
            // in range before rounding: bits ZW-1 .. OW-1 all equal (the sign)
            logic zeros, ones, low_ones, lo_m1;
            assign zeros = ~|fs[ZW-1:OW-1];
            assign ones = &fs[ZW-1:OW-1];
            if (OW >= 2) begin : g_low
                assign low_ones = &fs[OW-2:0];
            end else begin : g_nolow
                assign low_ones = 1'b1;
            end
            assign lo_m1 = (&fs[ZW-1:OW]) & ~fs[OW-1] & low_ones;  // fs == LO - 1
            assign over = (~sgn & ~zeros) | (zeros & low_ones & inc);
            assign under = sgn & ~ones & ~(lo_m1 & inc);
        end else begin : g_unsigned
            logic zeros;
            assign zeros = ~|fs[ZW-1:OW];
            assign over = (~sgn & ~zeros) | (zeros & (&fs[OW-1:0]) & inc);
            assign under = sgn & ~((&fs) & inc);  // fs == -1 rounds up to 0
        end
    endgenerate

    localparam logic [OW-1:0] ONE = 1;
    localparam logic [OW-1:0] HI = OS ? (ONE << (OW - 1)) - ONE : '1;
    localparam logic [OW-1:0] LO = OS ? ONE << (OW - 1) : '0;

    always_comb begin
        if (!CHK || MODE == 0) y = yr;
        else if (MODE == 2) y = (over | under) ? '0 : yr;  // AP_SAT_ZERO
        else y = over ? HI : (under ? LO : yr);  // AP_SAT
    end
endmodule
