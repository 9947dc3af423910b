// hlsgen RTL library: y = cast(a OP b), element-wise with broadcasting (hlsgen.ir.ops.tensor.Binary: x plus
// a position table, x times a scale). A sequence is ROWS rows of N values. Operand a has A_ROWS rows of
// A_N values a sequence: A_ROWS = ROWS (a row each output row) or 1 (one row broadcast over the rows: it
// is read at row 0 and held, by not taking it, until the last row); A_N = N or 1 (value 0 broadcast over
// the row). The same for b. OP: 0 add, 1 sub (aligned to the exact result's SF fractional bits in SW
// bits, as hlsgen.fixed.add / sub), 2 mul (the exact product: SF = AF + BF); then one cast. One row a
// cycle when both operands hold one, into an output register.
module hlsgen_binary #(
    parameter int N = 4,
    parameter int ROWS = 1,
    parameter int OP = 0,
    parameter int A_N = 4,
    parameter int A_ROWS = 1,
    parameter int AW = 8,
    parameter int AF = 0,
    parameter bit AS = 1'b1,
    parameter int B_N = 4,
    parameter int B_ROWS = 1,
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
    input  logic              clk,
    input  logic              rst,
    input  logic              a_valid,
    output logic              a_ready,
    input  logic [A_N*AW-1:0] a_data,
    input  logic              b_valid,
    output logic              b_ready,
    input  logic [B_N*BW-1:0] b_data,
    output logic              out_valid,
    input  logic              out_ready,
    output logic [  N*YW-1:0] out_data
);
    localparam int AE = AW + (AS ? 0 : 1);
    localparam int BE = BW + (BS ? 0 : 1);
    localparam int RW = $clog2(ROWS + 1);
    logic [N*YW-1:0] y;
    logic [RW-1:0] rc;
    logic take, last;

    generate
        for (genvar j = 0; j < N; j++) begin : g_lane
            localparam int JA = (A_N == 1) ? 0 : j;
            localparam int JB = (B_N == 1) ? 0 : j;
            logic signed [AE-1:0] ao;
            logic signed [BE-1:0] bo;
            logic signed [SW-1:0] s;
            if (AS) begin : g_as
                assign ao = a_data[JA*AW+:AW];
            end else begin : g_au
                assign ao = {1'b0, a_data[JA*AW+:AW]};
            end
            if (BS) begin : g_bs
                assign bo = b_data[JB*BW+:BW];
            end else begin : g_bu
                assign bo = {1'b0, b_data[JB*BW+:BW]};
            end
            if (OP == 2) begin : g_mul
                assign s = SW'(ao) * SW'(bo);
            end else if (OP == 1) begin : g_sub
                assign s = (SW'(ao) <<< (SF - AF)) - (SW'(bo) <<< (SF - BF));
            end else begin : g_add
                assign s = (SW'(ao) <<< (SF - AF)) + (SW'(bo) <<< (SF - BF));
            end
            hlsgen_cast #(
                .IW(SW), .IF(SF), .IS(1'b1), .OW(YW), .OF(YF), .OS(YS), .RND(Y_RND), .OVF(Y_OVF)
            ) u_cast (
                .x(s),
                .y(y[j*YW+:YW])
            );
        end
    endgenerate

    assign take = a_valid && b_valid && (!out_valid || out_ready);
    assign last = rc == RW'(ROWS - 1);
    assign a_ready = take && (A_ROWS == ROWS || last);
    assign b_ready = take && (B_ROWS == ROWS || last);

    always_ff @(posedge clk) begin
        if (take) out_data <= y;
    end

    always_ff @(posedge clk) begin
        if (rst) begin
            out_valid <= 1'b0;
            rc <= '0;
        end else begin
            if (take) out_valid <= 1'b1;
            else if (out_ready) out_valid <= 1'b0;
            if (take) rc <= last ? '0 : rc + 1'b1;
        end
    end
endmodule
