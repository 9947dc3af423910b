// hlsgen RTL library: the maximum over the T rows of a sequence, per feature (GlobalMaxPooling1D,
// hlsgen.ir.ops.tensor.GlobalMaxPool); the values keep their type (W bits, signed when S). One input row
// a cycle while the output register is free; the result leaves the cycle after the last row.
module hlsgen_maxpool #(
    parameter int T = 2,
    parameter int D = 2,
    parameter int W = 8,
    parameter bit S = 1'b1
) (
    input  logic           clk,
    input  logic           rst,
    input  logic           in_valid,
    output logic           in_ready,
    input  logic [D*W-1:0] in_data,
    output logic           out_valid,
    input  logic           out_ready,
    output logic [D*W-1:0] out_data
);
    logic [D*W-1:0] acc, acc_next;
    logic take, first, last;

    hlsgen_fold #(
        .T(T)
    ) u_fold (
        .clk(clk),
        .rst(rst),
        .in_valid(in_valid),
        .in_ready(in_ready),
        .out_valid(out_valid),
        .out_ready(out_ready),
        .take(take),
        .first(first),
        .last(last),
        .adv()
    );

    generate
        for (genvar d = 0; d < D; d++) begin : g_feat
            logic signed [W:0] x, m;
            logic bigger;
            assign x = {S & in_data[d*W+W-1], in_data[d*W+:W]};
            assign m = {S & acc[d*W+W-1], acc[d*W+:W]};
            assign bigger = first || (x > m);
            assign acc_next[d*W+:W] = bigger ? in_data[d*W+:W] : acc[d*W+:W];
        end
    endgenerate

    always_ff @(posedge clk) begin
        if (take) acc <= acc_next;
        if (take && last) out_data <= acc_next;
    end
endmodule
