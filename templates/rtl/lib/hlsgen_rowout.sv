// hlsgen RTL library: assembles an output row of N values from groups of L lanes and queues it, the
// output end shared by hlsgen_linear, hlsgen_scores, hlsgen_layernorm and hlsgen_softmax.
//
// When `we` is high, the L values of `lanes` are written into group `slot` of the row buffer; when `push`
// is high too (the last group), the row with this group already in place enters an OUT_DEPTH FIFO in the
// same cycle. The caller counts credits, so the FIFO is never written while full; `pop` is a taken row.
module hlsgen_rowout #(
    parameter int N = 4,  // values in a row
    parameter int L = 1,  // values per group
    parameter int YW = 8,
    parameter int OUT_DEPTH = 2,
    parameter int NG = (N + L - 1) / L,  // groups per row
    parameter int SLW = (NG > 1) ? $clog2(NG) : 1
) (
    input  logic             clk,
    input  logic             rst,
    input  logic             we,
    input  logic [SLW-1:0]   slot,
    input  logic [L*YW-1:0]  lanes,
    input  logic             push,
    output logic             pop,
    output logic             out_valid,
    input  logic             out_ready,
    output logic [N*YW-1:0]  out_data
);
    logic [NG*L*YW-1:0] row, row_next;

    // each group compares the slot with its constant index (no variable part-select: one LUT level a bit)
    generate
        for (genvar g = 0; g < NG; g++) begin : g_slot
            assign row_next[g*L*YW+:L*YW] = (slot == SLW'(g)) ? lanes : row[g*L*YW+:L*YW];
        end
    endgenerate

    always_ff @(posedge clk) begin
        if (we) row <= row_next;
    end

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
