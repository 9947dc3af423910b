// hlsgen RTL library: token ids to rows of a table (hlsgen.ir.ops.tensor.Embedding). A sequence arrives as
// one row of T ids (XW-bit unsigned integers); then the T rows of D values (table row id, cast from the
// table type to the output type; zeros for an id past the vocabulary of V rows) leave one a cycle; the
// next sequence enters once the last row was taken. TABLE holds row v at bits [v*D*TW +: D*TW].
module hlsgen_embedding #(
    parameter int T = 2,
    parameter int V = 2,
    parameter int D = 2,
    parameter int XW = 1,
    parameter int TW = 8,
    parameter int TF = 0,
    parameter bit TS = 1'b1,
    parameter logic [V*D*TW-1:0] TABLE = '0,
    parameter int YW = 8,
    parameter int YF = 0,
    parameter bit YS = 1'b1,
    parameter int Y_RND = 0,
    parameter int Y_OVF = 0
) (
    input  logic            clk,
    input  logic            rst,
    input  logic            in_valid,
    output logic            in_ready,
    input  logic [T*XW-1:0] in_data,
    output logic            out_valid,
    input  logic            out_ready,
    output logic [D*YW-1:0] out_data
);
    localparam int CW = $clog2(T + 1);
    logic [T*XW-1:0] ids;
    logic [CW-1:0] oc;
    logic [XW-1:0] id;
    logic [D*TW-1:0] row;

    assign id = ids[32'(oc)*XW+:XW];
    assign row = (32'(id) < V) ? TABLE[32'(id)*D*TW+:D*TW] : '0;

    generate
        for (genvar d = 0; d < D; d++) begin : g_val
            hlsgen_cast #(
                .IW(TW), .IF(TF), .IS(TS), .OW(YW), .OF(YF), .OS(YS), .RND(Y_RND), .OVF(Y_OVF)
            ) u_cast (
                .x(row[d*TW+:TW]),
                .y(out_data[d*YW+:YW])
            );
        end
    endgenerate

    always_ff @(posedge clk) begin
        if (in_valid && in_ready) ids <= in_data;
    end

    hlsgen_collect #(
        .IN_ROWS(1), .OUT_ROWS(T), .OCW(CW)
    ) u_collect (
        .clk(clk),
        .rst(rst),
        .in_valid(in_valid),
        .in_ready(in_ready),
        .out_valid(out_valid),
        .out_ready(out_ready),
        .ic(),
        .oc(oc)
    );
endmodule
