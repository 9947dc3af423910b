// hlsgen RTL library: the decode mask (hlsgen.ir.ops.decode.PositionMask). Each input row is a position
// p (an unsigned PW-bit integer); the output row has L bits, bit j = 1 (attend) when j <= p. One row a
// cycle into an output register.
module hlsgen_position_mask #(
    parameter int L = 2,
    parameter int PW = 1
) (
    input  logic         clk,
    input  logic         rst,
    input  logic         pos_valid,
    output logic         pos_ready,
    input  logic [PW-1:0] pos_data,
    output logic         out_valid,
    input  logic         out_ready,
    output logic [L-1:0] out_data
);
    logic take;
    assign pos_ready = !out_valid || out_ready;
    assign take = pos_valid && pos_ready;

    always_ff @(posedge clk) begin
        if (take) begin
            for (int j = 0; j < L; j++) out_data[j] <= 32'(j) <= 32'(pos_data);
        end
    end

    always_ff @(posedge clk) begin
        if (rst) out_valid <= 1'b0;
        else if (take) out_valid <= 1'b1;
        else if (out_ready) out_valid <= 1'b0;
    end
endmodule
