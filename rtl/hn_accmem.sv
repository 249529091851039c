// hn_accmem: the output accumulator memory, (c_out, pixel tile) words of DN
// int32 accumulators at address {pt, filter}.  hn_drain performs a
// read-modify-write per cycle through the asynchronous read port (rd_*) and
// the write port; the host reads results through the synchronous port
// (rd2_*).  Depth 2**AW words.  (On an FPGA the RMW port is LUTRAM-sized;
// a block-RAM version needs one cycle of read latency plus forwarding.)
module hn_accmem #(
  parameter int unsigned WIDTH = 512,
  parameter int unsigned AW    = 13
) (
  input  logic             clk_i,
  input  logic             rst_ni,
  input  logic [AW-1:0]    rd_addr_i,
  output logic [WIDTH-1:0] rd_data_o,
  input  logic             we_i,
  input  logic [AW-1:0]    waddr_i,
  input  logic [WIDTH-1:0] wdata_i,
  input  logic [AW-1:0]    rd2_addr_i,
  output logic [WIDTH-1:0] rd2_data_o
);
  logic [WIDTH-1:0] mem_q [2**AW];

  assign rd_data_o = mem_q[rd_addr_i];

  always_ff @(posedge clk_i) begin
    if (we_i) mem_q[waddr_i] <= wdata_i;
    rd2_data_o <= mem_q[rd2_addr_i];
  end

`ifndef SYNTHESIS
  if (WIDTH < 1 || AW < 1 || AW > 24) begin : g_bad_param
    $fatal(1, "hn_accmem: need WIDTH >= 1 and 1 <= AW <= 24");
  end
  always_ff @(posedge clk_i) begin
    if (rst_ni) begin
      assert (!$isunknown(we_i)) else $error("hn_accmem: we_i unknown");
    end
  end
`endif
endmodule
