// hlsgen RTL library: the rows and columns of a sequence swapped (hlsgen.ir.ops.tensor.Transpose with
// perm (1, 0): a token/feature swap, GlobalAveragePooling1D(data_format="channels_first"), Permute). The A
// rows of B values of a sequence are collected in a buffer; then the B rows of A values (output row r
// holds column r of the input) leave one a cycle; the next sequence enters once the buffer is empty. The
// values keep their type: no cast.
module hlsgen_transpose #(
    parameter int W = 8,
    parameter int A = 2,
    parameter int B = 2
) (
    input  logic           clk,
    input  logic           rst,
    input  logic           in_valid,
    output logic           in_ready,
    input  logic [B*W-1:0] in_data,
    output logic           out_valid,
    input  logic           out_ready,
    output logic [A*W-1:0] out_data
);
    localparam int IW = $clog2(A + 1);
    localparam int OW = $clog2(B + 1);
    logic [A*B*W-1:0] buffer;
    logic [IW-1:0] ic;
    logic [OW-1:0] oc;

    generate
        for (genvar j = 0; j < A; j++) begin : g_col
            assign out_data[j*W+:W] = buffer[(j*B + 32'(oc))*W+:W];
        end
    endgenerate

    always_ff @(posedge clk) begin
        if (in_valid && in_ready) buffer[32'(ic)*B*W+:B*W] <= in_data;
    end

    hlsgen_collect #(
        .IN_ROWS(A), .OUT_ROWS(B), .ICW(IW), .OCW(OW)
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
