// hn_ram: simple dual-port RAM, one synchronous write port and one
// synchronous read port (one cycle latency), no reset: maps to block RAM.
// The bit-plane buffers (weights, activations, row descriptors) are hn_rams
// whose words are whole array rows/columns.
module hn_ram #(
  parameter int unsigned WIDTH = 64,
  parameter int unsigned AW    = 10   // depth = 2**AW words
) (
  input  logic             clk_i,
  input  logic             rst_ni,
  input  logic             we_i,
  input  logic [AW-1:0]    waddr_i,
  input  logic [WIDTH-1:0] wdata_i,
  input  logic [AW-1:0]    raddr_i,
  output logic [WIDTH-1:0] rdata_o
);
  logic [WIDTH-1:0] mem_q [2**AW];

  always_ff @(posedge clk_i) begin
    if (we_i) mem_q[waddr_i] <= wdata_i;
    rdata_o <= mem_q[raddr_i];
  end

`ifndef SYNTHESIS
  if (WIDTH < 1 || AW < 1 || AW > 24) begin : g_bad_param
    $fatal(1, "hn_ram: need WIDTH >= 1 and 1 <= AW <= 24");
  end
  always_ff @(posedge clk_i) begin
    if (rst_ni) begin
      assert (!$isunknown(we_i)) else $error("hn_ram: we_i unknown");
    end
  end
`endif
endmodule
