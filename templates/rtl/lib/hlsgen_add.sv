// hlsgen RTL library: y = cast(a + b), element-wise over two streams of rows of the same shape; one
// row per cycle when both inputs hold one, registered. a and b are aligned to the exact sum's FF
// fractional bits (AF, BF <= FF) and added in SW bits, exactly as hlsgen.fixed.add; then one cast.
module hlsgen_add #(
    parameter int N = 4,
    parameter int AW = 8,
    parameter int AF = 0,
    parameter bit AS = 1'b1,
    parameter int BW = 8,
    parameter int BF = 0,
    parameter bit BS = 1'b1,
    parameter int SW = 10,
    parameter int SF = 0,
    parameter int YW = 8,
    parameter int YF = 0,
    parameter bit YS = 1'b1,
    parameter int Y_RND = 0,
    parameter int Y_OVF = 0
) (
    input  logic            clk,
    input  logic            rst,
    input  logic            a_valid,
    output logic            a_ready,
    input  logic [N*AW-1:0] a_data,
    input  logic            b_valid,
    output logic            b_ready,
    input  logic [N*BW-1:0] b_data,
    output logic            out_valid,
    input  logic            out_ready,
    output logic [N*YW-1:0] out_data
);
    localparam int AE = AW + (AS ? 0 : 1);
    localparam int BE = BW + (BS ? 0 : 1);
    logic [N*YW-1:0] y;
    logic take;

    generate
        for (genvar j = 0; j < N; j++) begin : g_lane
            logic signed [AE-1:0] ao;
            logic signed [BE-1:0] bo;
            logic signed [SW-1:0] s;
            if (AS) begin : g_as
                assign ao = a_data[j*AW+:AW];
            end else begin : g_au
                assign ao = {1'b0, a_data[j*AW+:AW]};
            end
            if (BS) begin : g_bs
                assign bo = b_data[j*BW+:BW];
            end else begin : g_bu
                assign bo = {1'b0, b_data[j*BW+:BW]};
            end
            assign s = (SW'(ao) <<< (SF - AF)) + (SW'(bo) <<< (SF - BF));
            hlsgen_cast #(
                .IW(SW), .IF(SF), .IS(1'b1), .OW(YW), .OF(YF), .OS(YS), .RND(Y_RND), .OVF(Y_OVF)
            ) u_cast (
                .x(s),
                .y(y[j*YW+:YW])
            );
        end
    endgenerate

    assign take = a_valid && b_valid && (!out_valid || out_ready);
    assign a_ready = take;
    assign b_ready = take;

    always_ff @(posedge clk) begin
        if (take) out_data <= y;
    end

    always_ff @(posedge clk) begin
        if (rst) out_valid <= 1'b0;
        else if (take) out_valid <= 1'b1;
        else if (out_ready) out_valid <= 1'b0;
    end
endmodule
