// hlsgen RTL library: the control of the blocks that collect a sequence into a buffer, then emit it
// (hlsgen_reshape, hlsgen_transpose, hlsgen_rowperm, hlsgen_embedding). IN_ROWS input rows are taken while
// the buffer is not full (the caller writes row ic of its buffer on in_valid && in_ready); then `full`
// (= out_valid) holds for OUT_ROWS output rows (the caller reads row oc), and the next sequence enters
// once the last one was taken. ICW / OCW: the widths of ic / oc (the caller's index widths).
module hlsgen_collect #(
    parameter int IN_ROWS = 2,
    parameter int OUT_ROWS = 2,
    parameter int ICW = $clog2(IN_ROWS + 1),
    parameter int OCW = $clog2(OUT_ROWS + 1)
) (
    input  logic           clk,
    input  logic           rst,
    input  logic           in_valid,
    output logic           in_ready,
    output logic           out_valid,
    input  logic           out_ready,
    output logic [ICW-1:0] ic,
    output logic [OCW-1:0] oc
);
    logic full;

    assign in_ready = !full;
    assign out_valid = full;

    always_ff @(posedge clk) begin
        if (rst) begin
            ic <= '0;
            oc <= '0;
            full <= 1'b0;
        end else begin
            if (in_valid && in_ready) begin
                if (ic == ICW'(IN_ROWS - 1)) begin
                    ic <= '0;
                    full <= 1'b1;
                end else begin
                    ic <= ic + 1'b1;
                end
            end
            if (out_valid && out_ready) begin
                if (oc == OCW'(OUT_ROWS - 1)) begin
                    oc <= '0;
                    full <= 1'b0;
                end else begin
                    oc <= oc + 1'b1;
                end
            end
        end
    end
endmodule
