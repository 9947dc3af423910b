// hlsgen RTL library: the mean over the T rows of a sequence (GlobalAveragePooling1D), as
// hlsgen.ir.ops.basic.GlobalAvgPool: an exact sum per feature (SW bits), times the unsigned constant
// C_RAW (C_W bits, C_F fractional: 1/T), cast to the output type. One input row a cycle into the
// registered sum; then three stages (hlsgen_fold's PIPE, moving while the output register is free or
// being emptied): the sum's low LO bits and the rest each times C_RAW, registered (each product within
// one DSP48E2: a wider sum made one product of two DSPs and the carry chain joining them); their sum,
// registered; its cast into the output register. The result leaves 4 cycles after the last row when
// nothing waits (timing.PoolModel, pipe = 3); no adder, multiplier and cast share a cycle.
module hlsgen_avgpool #(
    parameter int T = 2,
    parameter int D = 2,
    parameter int XW = 8,
    parameter bit XS = 1'b1,
    parameter int XF = 0,
    parameter int SW = 10,
    parameter int C_W = 1,
    parameter int C_F = 0,
    parameter logic [C_W-1:0] C_RAW = '1,
    parameter int YW = 8,
    parameter int YF = 0,
    parameter bit YS = 1'b1,
    parameter int Y_RND = 0,
    parameter int Y_OVF = 0
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
    localparam int XE = XW + (XS ? 0 : 1);
    localparam int PW = SW + C_W + 1;
    localparam int LO = (SW < 17) ? SW : 17;  // the sum's low bits: 17 unsigned bits fill an 18-bit port
    logic [D*SW-1:0] acc, acc_next;
    logic [D*YW-1:0] y;
    logic take, first, adv;

    hlsgen_fold #(
        .T(T), .PIPE(3)
    ) u_fold (
        .clk(clk),
        .rst(rst),
        .in_valid(in_valid),
        .in_ready(in_ready),
        .out_valid(out_valid),
        .out_ready(out_ready),
        .take(take),
        .first(first),
        .last(),
        .adv(adv)
    );

    generate
        for (genvar d = 0; d < D; d++) begin : g_feat
            logic signed [XE-1:0] xo;
            logic signed [SW-1:0] a;
            logic signed [PW-1:0] p;
            if (XS) begin : g_s
                assign xo = in_data[d*XW+:XW];
            end else begin : g_u
                assign xo = {1'b0, in_data[d*XW+:XW]};
            end
            assign a = acc[d*SW+:SW];
            assign acc_next[d*SW+:SW] = (first ? '0 : a) + SW'(xo);
            hlsgen_mul2 #(
                .XW(SW), .XS(1'b1), .CW(C_W + 1), .PW(PW), .LO(LO)
            ) u_mul (
                .clk(clk),
                .en(adv),
                .x(a),
                .c({1'b0, C_RAW}),
                .y(p)
            );
            hlsgen_cast #(
                .IW(PW), .IF(XF + C_F), .IS(1'b1), .OW(YW), .OF(YF), .OS(YS), .RND(Y_RND), .OVF(Y_OVF)
            ) u_cast (
                .x(p),
                .y(y[d*YW+:YW])
            );
        end
    endgenerate

    always_ff @(posedge clk) begin
        if (take) acc <= acc_next;
        if (adv) out_data <= y;
    end
endmodule
