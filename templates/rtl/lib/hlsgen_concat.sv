// hlsgen RTL library: two streams joined (hlsgen.ir.ops.tensor.Concat), each value cast to the output
// type. ROWWISE = 1 (a leading axis: a class token in front): a sequence is OUTER groups of RA rows of a
// then RB rows of b, each of N values, passed on one a cycle. ROWWISE = 0 (the last axis: feature
// concatenation): a row of a (NA values) and the row of b beside it (NB values) make one output row of
// NA + NB values, a in the low values. Into an output register.
module hlsgen_concat #(
    parameter bit ROWWISE = 1'b1,
    parameter int NA = 4,
    parameter int NB = 4,
    parameter int RA = 1,
    parameter int RB = 1,
    parameter int AW = 8,
    parameter int AF = 0,
    parameter bit AS = 1'b1,
    parameter int BW = 8,
    parameter int BF = 0,
    parameter bit BS = 1'b1,
    parameter int YW = 8,
    parameter int YF = 0,
    parameter bit YS = 1'b1,
    parameter int Y_RND = 0,
    parameter int Y_OVF = 0,
    parameter int N = ROWWISE ? NA : NA + NB
) (
    input  logic           clk,
    input  logic           rst,
    input  logic           a_valid,
    output logic           a_ready,
    input  logic [NA*AW-1:0] a_data,
    input  logic           b_valid,
    output logic           b_ready,
    input  logic [NB*BW-1:0] b_data,
    output logic           out_valid,
    input  logic           out_ready,
    output logic [N*YW-1:0] out_data
);
    logic [NA*YW-1:0] ya;
    logic [NB*YW-1:0] yb;
    logic free, take_a, take_b;

    generate
        for (genvar j = 0; j < NA; j++) begin : g_a
            hlsgen_cast #(
                .IW(AW), .IF(AF), .IS(AS), .OW(YW), .OF(YF), .OS(YS), .RND(Y_RND), .OVF(Y_OVF)
            ) u_cast (
                .x(a_data[j*AW+:AW]),
                .y(ya[j*YW+:YW])
            );
        end
        for (genvar j = 0; j < NB; j++) begin : g_b
            hlsgen_cast #(
                .IW(BW), .IF(BF), .IS(BS), .OW(YW), .OF(YF), .OS(YS), .RND(Y_RND), .OVF(Y_OVF)
            ) u_cast (
                .x(b_data[j*BW+:BW]),
                .y(yb[j*YW+:YW])
            );
        end
    endgenerate

    assign free = !out_valid || out_ready;
    if (ROWWISE) begin : g_rows
        localparam int RW = $clog2(RA + RB + 1);
        logic [RW-1:0] rc;
        logic from_a;
        assign from_a = rc < RW'(RA);
        assign take_a = a_valid && free && from_a;
        assign take_b = b_valid && free && !from_a;
        always_ff @(posedge clk) begin
            if (take_a) out_data <= ya;
            else if (take_b) out_data <= yb;
        end
        always_ff @(posedge clk) begin
            if (rst) rc <= '0;
            else if (take_a || take_b) rc <= (rc == RW'(RA + RB - 1)) ? '0 : rc + 1'b1;
        end
    end else begin : g_cols
        assign take_a = a_valid && b_valid && free;
        assign take_b = take_a;
        always_ff @(posedge clk) begin
            if (take_a) out_data <= {yb, ya};
        end
    end
    assign a_ready = take_a;
    assign b_ready = take_b;

    always_ff @(posedge clk) begin
        if (rst) out_valid <= 1'b0;
        else if (take_a || take_b) out_valid <= 1'b1;
        else if (out_ready) out_valid <= 1'b0;
    end
endmodule
