// hlsgen RTL library: one fixed-point cast, exactly hlsgen.fixed.convert (the ap_fixed assignment).
//
// A raw input x (IW bits, IF fractional, signed when IS) becomes a raw output y (OW bits, OF fractional,
// signed when OS). With SH = IF - OF: SH <= 0 appends -SH zero LSBs (exact); SH > 0 drops SH LSBs and
// adds the 0/1 increment of the rounding mode to the floor (hlsgen_roundinc). The result is then brought
// into the output range by the overflow mode.
//
// RND (ap_fixed quantization mode): 0 AP_TRN, 1 AP_TRN_ZERO, 2 AP_RND, 3 AP_RND_ZERO, 4 AP_RND_MIN_INF,
//                                   5 AP_RND_INF, 6 AP_RND_CONV
// OVF (ap_fixed overflow mode):     MODE + 16 * N, N the saturation bits of AP_WRAP / AP_WRAP_SM;
//                                   MODE 0 AP_WRAP, 1 AP_SAT, 2 AP_SAT_ZERO, 3 AP_SAT_SYM, 4 AP_WRAP_SM
// AP_WRAP with N > 0 and AP_WRAP_SM adjust the wrapped pattern on overflow as the headers'
// overflow_adjust does (hlsgen.fixed.arith._wrap_adjust).
//
// A signed source cast with AP_WRAP (no saturation bits), AP_SAT or AP_SAT_ZERO is built by
// hlsgen_fastcast: the same values, the range check on the floor in parallel with the rounding instead of
// a comparison after the rounding adder (a 16-token scores engine's cast 6 -> fewer LUT levels). The
// other modes, and unsigned sources, use the general form below. Purely combinational.
module hlsgen_cast #(
    parameter int IW = 16,
    parameter int IF = 8,
    parameter bit IS = 1'b1,
    parameter int OW = 16,
    parameter int OF = 8,
    parameter bit OS = 1'b1,
    parameter int RND = 0,
    parameter int OVF = 0
) (
    input  logic [IW-1:0] x,
    output logic [OW-1:0] y
);
    localparam int MODE = OVF % 16;
    localparam int NSAT = OVF / 16;
    localparam bit FAST = IS && (MODE == 1 || MODE == 2 || (MODE == 0 && NSAT == 0));
    localparam int SH = IF - OF;
    localparam int LS = (SH < 0) ? -SH : 0;  // zero LSBs appended
    localparam int RS = (SH > 0) ? SH : 0;  // LSBs dropped
    localparam int EW = ((IW > RS) ? IW : RS) + 2;  // input extended: every dropped bit index exists
    localparam int YW = EW + LS + 1;  // rounded value before the overflow mode
    localparam int CW = ((YW > OW) ? YW : OW) + 2;  // comparison width
    localparam logic signed [CW-1:0] ONE = 1;
    localparam logic signed [CW-1:0] HI = OS ? (ONE <<< (OW - 1)) - ONE : (ONE <<< OW) - ONE;
    localparam logic signed [CW-1:0] LO_PLAIN = OS ? -(ONE <<< (OW - 1)) : '0;
    localparam logic signed [CW-1:0] LO = (MODE == 3 && OS && OW > 1) ? -HI : LO_PLAIN;
    // AP_WRAP_SM without saturation bits reads bit OW of the floor when the source has it (LDV)
    localparam bit LDV = SH + OW < IW;
    localparam int LDI = (OW < YW) ? OW : YW - 1;
    localparam int NSI = (NSAT > 0 && NSAT <= OW) ? OW - NSAT : 0;  // the lowest saturation bit

    generate
        if (FAST) begin : g_fast
            hlsgen_fastcast #(
                .IW(IW), .IF(IF), .OW(OW), .OF(OF), .OS(OS), .RND(RND), .MODE(MODE), .CHK(1'b1)
            ) u_fast (
                .x(x),
                .y(y)
            );
        end else begin : g_general
            logic signed [EW-1:0] xe;
            logic signed [EW-1:0] fl;
            logic neg, inc;
            logic signed [YW-1:0] yr;
            logic signed [CW-1:0] yc;

            assign xe = {{(EW - IW) {IS & x[IW-1]}}, x};
            assign neg = xe[EW-1];
            assign fl = xe >>> RS;

            // the dropped bits (a one-bit placeholder when none are dropped) and the mode's increment
            localparam int DW = (RS > 0) ? RS : 1;
            logic [DW-1:0] dropped;
            assign dropped = xe[DW-1:0];
            hlsgen_roundinc #(.RS(RS), .RND(RND)) u_inc (.dropped(dropped), .neg(neg), .lsb(fl[0]), .inc(inc));

            assign yr = ({{(YW - EW) {fl[EW-1]}}, fl} <<< LS) + {{(YW - 1) {1'b0}}, inc};
            assign yc = {{(CW - YW) {yr[YW-1]}}, yr};

            // the wrapped pattern and its adjustment on overflow (AP_WRAP with N > 0, AP_WRAP_SM)
            logic [OW-1:0] v, adj;
            logic signed [YW-1:0] yfl;
            logic under, hit;

            assign v = yc[OW-1:0];
            assign yfl = {{(YW - EW) {fl[EW-1]}}, fl} <<< LS;
            assign under = yc < LO_PLAIN;
            assign hit = yc > HI || under;

            always_comb begin
                adj = v;
                if (MODE == 0 && OS) begin  // AP_WRAP, N > 0, signed: the sign, then N - 1 bits of its inverse
                    adj[OW-1] = under;
                    for (int k = OW - NSAT; k <= OW - 2; k++) adj[k] = ~under;
                end else if (MODE == 0) begin  // unsigned: the top N bits set
                    for (int k = OW - NSAT; k <= OW - 1; k++) adj[k] = 1'b1;
                end else if (MODE == 4 && NSAT == 0) begin  // AP_WRAP_SM
                    if ((LDV && yfl[LDI]) != v[OW-1]) begin
                        adj = ~v;
                        adj[OW-1] = LDV && yfl[LDI];
                    end
                end else if (MODE == 4) begin
                    if (NSAT == 1 ? under != v[OW-1] : v[NSI] == under) adj = ~v;
                    for (int k = OW - NSAT; k <= OW - 2; k++) adj[k] = ~under;
                    adj[OW-1] = under;
                end
            end

            always_comb begin
                case (MODE)
                    1, 3: y = (yc > HI) ? HI[OW-1:0] : (yc < LO) ? LO[OW-1:0] : yc[OW-1:0];  // AP_SAT, AP_SAT_SYM
                    2: y = (yc > HI || yc < LO) ? '0 : yc[OW-1:0];  // AP_SAT_ZERO
                    default: y = (NSAT > 0 || MODE == 4) && hit ? adj : v;  // AP_WRAP (N = 0: the low OW bits)
                endcase
            end
        end
    endgenerate
endmodule
