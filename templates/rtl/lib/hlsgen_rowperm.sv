// hlsgen RTL library: the rows of a sequence permuted (hlsgen.ir.ops.tensor.Transpose of leading axes,
// the last axis kept: Permute((1, 3, 2, 4)) of patches). The ROWS rows of N values of a sequence are
// collected in a buffer; then output row r is input row SRC[r] (SRC holds entry r at bits
// [r*IW +: IW]), one a cycle; the next sequence enters once the buffer is empty. No cast.
module hlsgen_rowperm #(
    parameter int W = 8,
    parameter int N = 1,
    parameter int ROWS = 2,
    parameter int IW = 1,
    parameter logic [ROWS*IW-1:0] SRC = '0
) (
    input  logic           clk,
    input  logic           rst,
    input  logic           in_valid,
    output logic           in_ready,
    input  logic [N*W-1:0] in_data,
    output logic           out_valid,
    input  logic           out_ready,
    output logic [N*W-1:0] out_data
);
    localparam int CW = (ROWS > 1) ? $clog2(ROWS) : 1;  // a row index
    logic [N*W-1:0] buffer[ROWS];
    logic [CW-1:0] ic, oc;
    logic [IW-1:0] src;

    assign src = SRC[32'(oc)*IW+:IW];
    assign out_data = buffer[src];

    always_ff @(posedge clk) begin
        if (in_valid && in_ready) buffer[ic] <= in_data;
    end

    hlsgen_collect #(
        .IN_ROWS(ROWS), .OUT_ROWS(ROWS), .ICW(CW), .OCW(CW)
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
