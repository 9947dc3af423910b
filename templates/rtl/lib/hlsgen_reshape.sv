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

    assign out_data = buffer[32'(oc)*OUT_N*W+:OUT_N*W];

    always_ff @(posedge clk) begin
        if (in_valid && in_ready) buffer[32'(ic)*IN_N*W+:IN_N*W] <= in_data;
    end

    hlsgen_collect #(
        .IN_ROWS(IN_ROWS), .OUT_ROWS(OUT_ROWS), .ICW(IW), .OCW(OW)
    ) u_collect (
        .clk(clk),
        .rst(rst),
        .in_valid(in_valid),
        .in_ready(in_ready),
        .out_valid(out_valid),
        .out_ready(out_ready),
        .ic(ic),
        .oc(oc)
    );
endmodule
