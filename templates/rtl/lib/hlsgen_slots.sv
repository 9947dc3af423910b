// hlsgen RTL library: the slot pointers of a ring of S row slots in a memory (a writer fills one slot
// after the other; a reader loads the oldest full one and reads it in place until its next load).
// `w` is the slot being written, advanced by `wdone` (its row is whole); `head` the slot the next `load`
// takes; `cur` the slot the reader holds, `head` as it was at the last load. The caller's credits keep a
// slot from being written while it is held or waiting, so the pointers need no count.
module hlsgen_slots #(
    parameter int S = 2,
    parameter int SW = (S > 1) ? $clog2(S) : 1
) (
    input  logic          clk,
    input  logic          rst,
    input  logic          wdone,
    input  logic          load,
    output logic [SW-1:0] w,
    output logic [SW-1:0] head,
    output logic [SW-1:0] cur
);
    always_ff @(posedge clk) begin
        if (rst) begin
            w <= '0;
            head <= '0;
            cur <= '0;
        end else begin
            if (wdone) w <= (w == SW'(S - 1)) ? '0 : w + 1'b1;
            if (load) begin
                head <= (head == SW'(S - 1)) ? '0 : head + 1'b1;
                cur <= head;
            end
        end
    end
endmodule
