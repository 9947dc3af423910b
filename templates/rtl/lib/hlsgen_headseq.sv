// hlsgen RTL library: the row counters of the attention engines (hlsgen_scores, hlsgen_context), rows
// (h, q) head-major for one sequence: q runs fastest, then the head h; with it the head's position hs in
// its key/value group and the key/value head g = h / (H / HKV), kept as counters (no divider). `step`
// (the end of a row) advances them; after the last row of a sequence they return to 0 and the read bank
// `rb` of the caller's ping-pong buffers flips. `hlast` (hc == H - 1) and `last` (the sequence's last
// row: hc == H - 1 and qc == TQ - 1) are registers kept beside the counts, so that no compare of a count
// lies on the caller's issue path.
module hlsgen_headseq #(
    parameter int TQ = 2,
    parameter int H = 1,
    parameter int HKV = 1,
    parameter int QCW = (TQ > 1) ? $clog2(TQ) : 1,  // width of qc (the caller's index width)
    parameter int HW = $clog2(H + 1)
) (
    input  logic           clk,
    input  logic           rst,
    input  logic           step,
    output logic [QCW-1:0] qc,
    output logic [HW-1:0]  hc,
    output logic [HW-1:0]  gc,
    output logic           hlast,
    output logic           last,
    output logic           rb
);
    localparam int HG = H / HKV;
    logic [HW-1:0] hs;
    logic qlast;  // qc == TQ - 1

    always_ff @(posedge clk) begin
        if (rst) begin
            qc <= '0;
            hc <= '0;
            hs <= '0;
            gc <= '0;
            rb <= 1'b0;
            {qlast, hlast, last} <= {TQ == 1, H == 1, TQ == 1 && H == 1};
        end else if (step) begin
            if (qlast) begin
                qc <= '0;
                qlast <= TQ == 1;
                if (hlast) begin
                    hc <= '0;
                    hs <= '0;
                    gc <= '0;
                    rb <= ~rb;
                    hlast <= H == 1;
                    last <= TQ == 1 && H == 1;
                end else begin
                    hc <= hc + 1'b1;
                    hlast <= hc == HW'(H - 2);
                    last <= TQ == 1 && hc == HW'(H - 2);
                    if (hs == HW'(HG - 1)) begin
                        hs <= '0;
                        gc <= gc + 1'b1;
                    end else begin
                        hs <= hs + 1'b1;
                    end
                end
            end else begin
                qc <= qc + 1'b1;
                qlast <= qc == QCW'(TQ - 2);
                last <= hlast && qc == QCW'(TQ - 2);
            end
        end
    end
endmodule
