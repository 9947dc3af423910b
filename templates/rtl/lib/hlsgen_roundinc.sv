// hlsgen RTL library: the 0/1 rounding increment of a fixed-point cast (ap_fixed's quantization modes),
// shared by hlsgen_cast and hlsgen_fastcast.
//
// The cast drops RS >= 0 LSBs of its input; `dropped` holds them (bit RS-1 the first dropped bit qb, the
// OR of the rest the sticky bit r; with RS = 0 the port is one bit wide and ignored), `neg` is the input's
// sign (0 for an unsigned source) and `lsb` the floor's LSB (read by AP_RND_CONV only). `inc` is what the
// mode adds to the floor.
//
// RND (ap_fixed quantization mode): 0 AP_TRN, 1 AP_TRN_ZERO, 2 AP_RND, 3 AP_RND_ZERO, 4 AP_RND_MIN_INF,
//                                   5 AP_RND_INF, 6 AP_RND_CONV
// Purely combinational.
module hlsgen_roundinc #(
    parameter int RS = 1,
    parameter int RND = 0
) (
    input  logic [(RS > 0 ? RS : 1)-1:0] dropped,
    input  logic neg,
    input  logic lsb,
    output logic inc
);
    logic qb, r;

    generate
        if (RS >= 1) begin : g_qb
            assign qb = dropped[RS-1];
        end else begin : g_noqb
            assign qb = 1'b0;
        end
        if (RS >= 2) begin : g_r
            assign r = |dropped[RS-2:0];
        end else begin : g_nor
            assign r = 1'b0;
        end
    endgenerate

    always_comb begin
        case (RND)
            1: inc = neg & (qb | r);  // AP_TRN_ZERO
            2: inc = qb;  // AP_RND
            3: inc = qb & (neg | r);  // AP_RND_ZERO
            4: inc = qb & r;  // AP_RND_MIN_INF
            5: inc = qb & (~neg | r);  // AP_RND_INF
            6: inc = qb & (lsb | r);  // AP_RND_CONV
            default: inc = 1'b0;  // AP_TRN
        endcase
    end
endmodule
