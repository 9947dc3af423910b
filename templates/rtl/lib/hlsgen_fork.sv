// hlsgen RTL library: one stream to N consumers. A row passes when every consumer is ready (each
// consumer is a FIFO deep enough for a whole tensor, so that no branch waits on another; or, where the
// readers take the rows in step, a 1-row FIFO, and the branches advance together: design._lockstep_fork).
module hlsgen_fork #(
    parameter int N = 2
) (
    input  logic         in_valid,
    output logic         in_ready,
    output logic [N-1:0] out_valid,
    input  logic [N-1:0] out_ready
);
    assign in_ready  = &out_ready;
    assign out_valid = {N{in_valid & in_ready}};
endmodule
