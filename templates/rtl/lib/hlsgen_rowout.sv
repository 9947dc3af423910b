// hlsgen RTL library: assembles an output row of N values from groups of L lanes and queues it, the
// output end shared by hlsgen_linear, hlsgen_scores, hlsgen_layernorm and hlsgen_softmax.
//
// Every caller writes the groups of a row in order, 0 to NG - 1, each once: the row buffer is a shift
// register (a group enters at the top and the row moves down one group), so that after NG writes group g
// sits at [g*L*YW +: L*YW]. No multiplexer picks a group's place: the write enable is the registers'
// clock enable. When `we` is high, the L values of `lanes` enter the row; when `push` is high too (the
// last group), the row with this group already in place enters an OUT_DEPTH FIFO in the same cycle. The
// caller counts credits, so the FIFO is never written while full; `pop` is a taken row.
//
// With RAM = 0 the row buffer is that shift register and the FIFO holds whole rows; with RAM = 1 (long
// rows: the scores' and softmax's rows of T values) there is no row register: each group is written
// straight into the FIFO's slot of the row being assembled (one memory of OUT_DEPTH words per group, LUTRAM
// with an asynchronous read; the group by a counter of the writes, since they come in order), which the
// credits keep free. The row leaves in the same cycle either way.
module hlsgen_rowout #(
    parameter int N = 4,  // values in a row
    parameter int L = 1,  // values per group
    parameter int YW = 8,
    parameter int OUT_DEPTH = 2,
    parameter bit RAM = 1'b0,  // groups written into the FIFO's memories (no row register)
    parameter int NG = (N + L - 1) / L,  // groups per row
    parameter int SLW = (NG > 1) ? $clog2(NG) : 1
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
    generate
        if (RAM) begin : g_ram
            localparam int AW = (OUT_DEPTH > 1) ? $clog2(OUT_DEPTH) : 1;
            localparam int CW = $clog2(OUT_DEPTH + 1);
            logic [AW-1:0] wr, rd;
            logic [CW-1:0] count;
            logic [SLW-1:0] slot;  // the group being written: the writes come in order
            always_ff @(posedge clk) begin
                if (rst) slot <= '0;
                else if (we) slot <= push ? '0 : slot + 1'b1;
            end
            for (genvar g = 0; g < NG; g++) begin : g_group
                localparam int LG = (N - g * L < L) ? N - g * L : L;  // values of the group in the row
                logic [LG*YW-1:0] mem[OUT_DEPTH];
                always_ff @(posedge clk) begin
                    if (we && slot == SLW'(g)) mem[wr] <= lanes[LG*YW-1:0];
                end
                assign out_data[g*L*YW+:LG*YW] = mem[rd];
            end
            assign out_valid = count != '0;
            assign pop = out_valid && out_ready;
            always_ff @(posedge clk) begin
                if (rst) begin
                    wr <= '0;
                    rd <= '0;
                    count <= '0;
                end else begin
                    if (push) wr <= (wr == AW'(OUT_DEPTH - 1)) ? '0 : wr + 1'b1;
                    if (pop) rd <= (rd == AW'(OUT_DEPTH - 1)) ? '0 : rd + 1'b1;
                    if (push & ~pop) count <= count + 1'b1;
                    else if (pop & ~push) count <= count - 1'b1;
                end
            end
        end else begin : g_reg
            logic [NG*L*YW-1:0] row_next;

            if (NG > 1) begin : g_shift
                logic [(NG-1)*L*YW-1:0] row;  // the groups written so far, the latest at the top
                assign row_next = {lanes, row};
                always_ff @(posedge clk) begin
                    if (we) row <= row_next[NG*L*YW-1:L*YW];
                end
            end else begin : g_one
                assign row_next = lanes;
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
        end
    endgenerate
endmodule
