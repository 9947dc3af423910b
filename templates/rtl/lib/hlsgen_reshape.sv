// hlsgen RTL library: the same row-major values in rows of another length (Flatten, Reshape). The
// IN_ROWS rows of IN_N values of a sequence are collected in a buffer; then the OUT_ROWS rows of OUT_N
// values leave one a cycle; the next sequence enters once the buffer is empty.
module hlsgen_reshape #(
    parameter int W = 8,
    parameter int IN_N = 2,
    parameter int IN_ROWS = 2,
    parameter int OUT_N = 4,
    parameter int OUT_ROWS = 1
) (
    input  logic               clk,
    input  logic               rst,
    input  logic               in_valid,
    output logic               in_ready,
    input  logic [IN_N*W-1:0]  in_data,
    output logic               out_valid,
    input  logic               out_ready,
    output logic [OUT_N*W-1:0] out_data
);
    localparam int IW = $clog2(IN_ROWS + 1);
    localparam int OW = $clog2(OUT_ROWS + 1);
    logic [IN_ROWS*IN_N*W-1:0] buffer;
    logic [IW-1:0] ic;
    logic [OW-1:0] oc;
    logic full;

    assign in_ready = !full;
    assign out_valid = full;
    assign out_data = buffer[32'(oc)*OUT_N*W+:OUT_N*W];

    always_ff @(posedge clk) begin
        if (in_valid && in_ready) buffer[32'(ic)*IN_N*W+:IN_N*W] <= in_data;
    end

    always_ff @(posedge clk) begin
        if (rst) begin
            ic <= '0;
            oc <= '0;
            full <= 1'b0;
        end else begin
            if (in_valid && in_ready) begin
                if (ic == IW'(IN_ROWS - 1)) begin
                    ic <= '0;
                    full <= 1'b1;
                end else begin
                    ic <= ic + 1'b1;
                end
            end
            if (out_valid && out_ready) begin
                if (oc == OW'(OUT_ROWS - 1)) begin
                    oc <= '0;
                    full <= 1'b0;
                end else begin
                    oc <= oc + 1'b1;
                end
            end
        end
    end
endmodule
