// hlsgen RTL library: assembles an output row of N values from groups of L lanes and queues it, the
// output end shared by hlsgen_linear, hlsgen_scores, hlsgen_layernorm and hlsgen_softmax.
//
// Every caller writes the groups of a row in order, 0 to NG - 1, each once: the row buffer is a shift
// register (a group enters at the top and the row moves down one group), so that after NG writes group g
// sits at [g*L*YW +: L*YW]. No multiplexer picks a group's place: the write enable is the registers'
// clock enable. When `we` is high, the L values of `lanes` enter the row; when `push` is high too (the
// last group), the row with this group already in place enters an OUT_DEPTH FIFO in the same cycle. The
// caller counts credits, so the FIFO is never written while full; `pop` is a taken row.
module hlsgen_rowout #(
    parameter int N = 4,  // values in a row
    parameter int L = 1,  // values per group
    parameter int YW = 8,
    parameter int OUT_DEPTH = 2,
    parameter int NG = (N + L - 1) / L  // groups per row
) (
    input  logic             clk,
    input  logic             rst,
    input  logic             we,
    input  logic [L*YW-1:0]  lanes,
    input  logic             push,
    output logic             pop,
    output logic             out_valid,
    input  logic             out_ready,
    output logic [N*YW-1:0]  out_data
);
    logic [NG*L*YW-1:0] row_next;

    generate
        if (NG > 1) begin : g_shift
            logic [(NG-1)*L*YW-1:0] row;  // the groups written so far, the latest at the top
            assign row_next = {lanes, row};
            always_ff @(posedge clk) begin
                if (we) row <= row_next[NG*L*YW-1:L*YW];
            end
        end else begin : g_one
            assign row_next = lanes;
        end
    endgenerate

    hlsgen_fifo #(
        .W(N * YW),
        .DEPTH(OUT_DEPTH)
    ) u_out (
        .clk(clk),
        .rst(rst),
        .in_valid(push),
        .in_ready(),
        .in_data(row_next[N*YW-1:0]),
        .out_valid(out_valid),
        .out_ready(out_ready),
        .out_data(out_data)
    );
    assign pop = out_valid && out_ready;
endmodule
