// hlsgen RTL library: y = cast(x * scale + shift) per feature (hlsgen.ir.ops.tensor.BatchNorm, a
// BatchNormalization not folded into a linear op), exactly as its execute: the product x * scale[d]
// (PF = XF + WF fractional bits) and shift[d] are aligned to SF fractional bits and added in SW bits;
// then one cast. SCALE and SHIFT hold feature d at bits [d*WW +: WW] and [d*BW +: BW]. One row a cycle,
// into an output register.
module hlsgen_affine #(
    parameter int D = 4,
    parameter int XW = 8,
    parameter int XF = 0,
    parameter bit XS = 1'b1,
    parameter int WW = 8,
    parameter int WF = 0,
    parameter bit WS = 1'b1,
    parameter int BW = 8,
    parameter int BF = 0,
    parameter bit BS = 1'b1,
    parameter int SW = 20,
    parameter int SF = 0,
    parameter logic [D*WW-1:0] SCALE = '0,
    parameter logic [D*BW-1:0] SHIFT = '0,
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
    localparam int WE = WW + (WS ? 0 : 1);
    localparam int BE = BW + (BS ? 0 : 1);
    localparam int PF = XF + WF;
    logic [D*YW-1:0] y;
    logic take;

    generate
        for (genvar d = 0; d < D; d++) begin : g_feat
            localparam logic [WW-1:0] WR = SCALE[d*WW+:WW];
            localparam logic [BW-1:0] BR = SHIFT[d*BW+:BW];
            logic signed [XE-1:0] xo;
            logic signed [WE-1:0] wo;
            logic signed [BE-1:0] bo;
            logic signed [SW-1:0] p, s;
            if (XS) begin : g_xs
                assign xo = in_data[d*XW+:XW];
            end else begin : g_xu
                assign xo = {1'b0, in_data[d*XW+:XW]};
            end
            assign wo = WS ? WE'($signed(WR)) : WE'({1'b0, WR});
            assign bo = BS ? BE'($signed(BR)) : BE'({1'b0, BR});
            assign p = SW'(xo) * SW'(wo);
            assign s = (p <<< (SF - PF)) + (SW'(bo) <<< (SF - BF));
            hlsgen_cast #(
                .IW(SW), .IF(SF), .IS(1'b1), .OW(YW), .OF(YF), .OS(YS), .RND(Y_RND), .OVF(Y_OVF)
            ) u_cast (
                .x(s),
                .y(y[d*YW+:YW])
            );
        end
    endgenerate

    assign in_ready = !out_valid || out_ready;
    assign take = in_valid && in_ready;

    always_ff @(posedge clk) begin
        if (take) out_data <= y;
    end

    always_ff @(posedge clk) begin
        if (rst) out_valid <= 1'b0;
        else if (take) out_valid <= 1'b1;
        else if (out_ready) out_valid <= 1'b0;
    end
endmodule
