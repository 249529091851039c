// hn_sim: the C API of include/hetnas/sim.h over the Verilator model of
// rtl/hn_core.sv.  It packs a conv job into the array's memory image
// (docs/hardware.md, "Memory image"), loads it through the buffer write
// ports, runs the array and reads the accumulators back.
#include "hetnas/backend.h"
#include "hetnas/hwimage.h"
#include "hetnas/hwparams.h"
#include "hetnas/sim.h"

#include <cstdarg>
#include <cstring>
#include <atomic>
#include <deque>
#include <memory>
#include <string>
#include <new>
#include <vector>

#include "Vhn_core.h"
#include "Vhn_krnl_top.h"
#include "Vhn_krnl_top_w32.h"
#include "verilated.h"
#include "verilated_fst_c.h"

namespace {

// Bit vectors of any port width: Verilator uses CData/SData/IData/QData up
// to 64 bits and VlWide<N> (32-bit words) above.
template <typename T>
void put(T &sig, const std::vector<uint32_t> &w) {
    uint64_t v = w.empty() ? 0 : w[0];
    if (w.size() > 1) v |= static_cast<uint64_t>(w[1]) << 32;
    sig = static_cast<T>(v);
}
template <std::size_t N>
void put(VlWide<N> &sig, const std::vector<uint32_t> &w) {
    for (std::size_t i = 0; i < N; i++) sig[i] = i < w.size() ? w[i] : 0u;
}
template <typename T>
uint32_t word_of(const T &sig, int i) {
    return static_cast<uint32_t>(static_cast<uint64_t>(sig) >> (32 * i));
}
template <std::size_t N>
uint32_t word_of(const VlWide<N> &sig, int i) {
    return sig[static_cast<std::size_t>(i)];
}

// ceil(log2(x)) for x >= 1 (SystemVerilog $clog2).
int ceil_log2(int x) {
    int r = 0;
    while ((1 << r) < x) r++;
    return r;
}

struct Bits {
    std::vector<uint32_t> w;
    explicit Bits(int nbits) : w(static_cast<std::size_t>((nbits + 31) / 32), 0u) {}
    void clear() { std::fill(w.begin(), w.end(), 0u); }
    void set(int b) { w[static_cast<std::size_t>(b >> 5)] |= 1u << (b & 31); }
    void put_field(int lsb, int width, uint32_t v) {
        for (int i = 0; i < width; i++)
            if ((v >> i) & 1u) set(lsb + i);
    }
};

}  // namespace

// One context for the process: Verilator 5.006 deadlocks when a model is
// destroyed while a model of another context is alive.
VerilatedContext *shared_context() {
    static VerilatedContext *ctx = [] {
        VerilatedContext *c = new VerilatedContext;
        c->fatalOnError(true);
        c->traceEverOn(true);
        return c;
    }();
    return ctx;
}

struct hn_sim {
    std::unique_ptr<Vhn_core> top;
    std::unique_ptr<VerilatedFstC> trace;
    std::unique_ptr<Vhn_krnl_top> krnl;  // created on first hn_sim_run_axi
    std::unique_ptr<Vhn_krnl_top_w32> krnl32;  // the 32-bit build, likewise
    hn_dma_params dma = hn_dma_params_bench();  // what hn_sim_run_axi drives
    unsigned stall_pct = 0;                      // memory back-pressure
    uint64_t stall_seed = 0;
    hn_array_params p;
    uint64_t cycle_cap = 0;
    uint64_t time = 0;
    uint64_t array_cycles = 0;
    uint64_t ticks = 0;
    uint64_t axi_kcycles = 0;  // of the last hn_sim_run_axi
    hn_array_plan plan;

    void tick() {
        top->clk_i = 0;
        top->eval();
        if (trace) trace->dump(time);
        time++;
        top->clk_i = 1;
        top->eval();
        if (trace) trace->dump(time);
        time++;
        ticks++;
    }
    void reset() {
        top->rst_ni = 0;
        top->start_i = 0;
        top->wmem_we_i = 0;
        top->amem_we_i = 0;
        top->mmem_we_i = 0;
        // the buffers are filled before every start: no pixel tile waits
        top->act_tiles_i = (1u << (HN_HW_PT_W + 1)) - 1u;
        tick();
        tick();
        top->rst_ni = 1;
        tick();
    }
};

extern "C" {

hn_sim_opts hn_sim_opts_default(void) {
    hn_sim_opts o;
    o.trace_path = nullptr;
    o.cycle_cap = 0;
    return o;
}

hn_status hn_sim_open(const hn_sim_opts *o, hn_sim **out) {
    *out = nullptr;
    hn_sim *s = new (std::nothrow) hn_sim();
    if (!s) return hn_fail(HN_ERR_NOMEM, "hn_sim_open: out of memory");
    s->p = hn_array_params_default();
    s->p.dm = HN_SIM_DM;
    s->p.dn = HN_SIM_DN;
    s->p.dk = HN_SIM_DK;
    s->p.acc_w = HN_SIM_ACC_W;
    static std::atomic<unsigned> serial{0};
    std::string name = "hn_core" + std::to_string(serial++);
    s->top.reset(new Vhn_core(shared_context(), name.c_str()));
    if (o && o->trace_path) {
        s->trace.reset(new VerilatedFstC);
        s->top->trace(s->trace.get(), 99);
        s->trace->open(o->trace_path);
        if (!s->trace->isOpen()) {
            hn_sim_close(s);
            return hn_fail(HN_ERR_IO, "hn_sim_open: cannot open trace file '%s'",
                           o->trace_path);
        }
    }
    s->cycle_cap = o ? o->cycle_cap : 0;
    s->reset();
    *out = s;
    return HN_OK;
}

void hn_sim_close(hn_sim *s) {
    if (!s) return;
    if (s->trace) s->trace->close();
    if (s->top) s->top->final();
    if (s->krnl) s->krnl->final();
    delete s;
}

const hn_array_params *hn_sim_params(const hn_sim *s) { return &s->p; }

void hn_sim_stats(const hn_sim *s, uint64_t *array_cycles,
                  uint64_t *total_ticks) {
    if (array_cycles) *array_cycles = s->array_cycles;
    if (total_ticks) *total_ticks = s->ticks;
}

}  // extern "C"

namespace {

// Frees a packed image on every exit path.
struct ImageGuard {
    hn_array_image img{};
    ~ImageGuard() { hn_array_image_free(&img); }
};

std::vector<uint32_t> word_at(const uint32_t *base, long i, int wpw) {
    const uint32_t *w = base + static_cast<std::size_t>(i) * static_cast<std::size_t>(wpw);
    return std::vector<uint32_t>(w, w + wpw);
}

}  // namespace

extern "C" {

hn_status hn_sim_run(hn_sim *s, const hn_hwjob *job, int32_t *acc,
                     uint64_t *cycles) {
    if (cycles) *cycles = 0;
    const hn_array_params &p = s->p;
    hn_array_plan &pl = s->plan;
    HN_TRY(hn_array_plan_job(job, &p, &pl));
    HN_TRY(hn_hwjob_validate(job, p.wbits_max, p.abits_max));
    ImageGuard g;
    hn_array_image &img = g.img;
    HN_TRY(hn_array_pack_weights(job, &p, &pl, &img));
    for (long i = 0; i < img.n_m; i++) {
        put(s->top->mmem_data_i, word_at(img.m, i, img.m_wpw));
        s->top->mmem_addr_i = static_cast<uint32_t>(i);
        s->top->mmem_we_i = 1;
        s->tick();
    }
    s->top->mmem_we_i = 0;
    for (long i = 0; i < img.n_w; i++) {
        put(s->top->wmem_data_i, word_at(img.w, i, img.w_wpw));
        s->top->wmem_addr_i = static_cast<uint32_t>(i);
        s->top->wmem_we_i = 1;
        s->tick();
    }
    s->top->wmem_we_i = 0;

    Bits ncw(8 * p.kw_w);
    for (int st = 0; st < pl.ba; st++) ncw.put_field(st * p.kw_w, p.kw_w, static_cast<uint32_t>(pl.nc[st]));
    const int spl_w = p.dk > 1 ? ceil_log2(p.dk) : 1;
    Bits splw(8 * spl_w);
    for (int st = 0; pl.packed && st < pl.ba; st++)
        splw.put_field(st * spl_w, spl_w, static_cast<uint32_t>(pl.split[st]));
    uint64_t total = 0;
    for (int run = 0; run < pl.runs; run++) {
        const int pt0 = run * pl.pt_per_run;
        const int npt = std::min(pl.pt_per_run, pl.pt - pt0);
        HN_TRY(hn_array_pack_acts(job, &p, &pl, pt0, npt, &img));
        for (int lp = 0; lp < npt; lp++)
            for (int st = 0; st < pl.ba; st++)
                for (int c = 0; c < pl.nc[st]; c++) {  // unused words need no write
                    long addr = hn_array_act_addr(&pl, lp, st, c);
                    put(s->top->amem_data_i, word_at(img.a, addr, img.a_wpw));
                    s->top->amem_addr_i = static_cast<uint32_t>(addr);
                    s->top->amem_we_i = 1;
                    s->tick();
                }
        s->top->amem_we_i = 0;
        // ---- run ------------------------------------------------------------
        s->top->cfg_mt_i = pl.mt;
        s->top->cfg_pt_i = npt;
        s->top->cfg_ba_i = pl.ba;
        s->top->cfg_kw_i = pl.kw;
        put(s->top->cfg_nc_i, ncw.w);
        s->top->cfg_packed_i = pl.packed;
        s->top->cfg_pm1_i = pl.pm1;
        put(s->top->cfg_split_i, splw.w);
        uint64_t model = hn_cycles_run(&pl, &p, npt);
        uint64_t cap = s->cycle_cap ? s->cycle_cap : 4 * model + 10000;
        s->top->start_i = 1;
        s->tick();
        s->top->start_i = 0;
        uint64_t n = 1;
        while (!s->top->done_o) {
            if (n >= cap) {
                s->reset();
                return hn_fail(HN_ERR_TIMEOUT, "hn_sim_run: no done after %llu "
                               "cycles (cap); the model was reset",
                               static_cast<unsigned long long>(n));
            }
            s->tick();
            n++;
        }
        if (n != s->top->cycles_o)
            return hn_fail(HN_ERR_INTERNAL, "hn_sim_run: harness counted %llu "
                           "cycles, the RTL %u", static_cast<unsigned long long>(n),
                           static_cast<unsigned>(s->top->cycles_o));
        total += n;
        // ---- read back: address {pt, filter} --------------------------------
        for (int lp = 0; lp < npt; lp++)
            for (int f = 0; f < pl.c_out; f++) {
                s->top->res_addr_i = static_cast<uint32_t>(lp) << p.filt_w | static_cast<uint32_t>(f);
                s->tick();
                for (int nn = 0; nn < p.dn; nn++) {
                    int px = (pt0 + lp) * p.dn + nn;
                    if (px >= pl.pixels) break;
                    acc[static_cast<std::size_t>(f) * pl.pixels + px] =
                        static_cast<int32_t>(word_of(s->top->res_data_o, nn));
                }
            }
    }
    s->array_cycles += total;
    if (cycles) *cycles = total;
    return HN_OK;
}


}  // extern "C"

namespace {

// A bus-functional model around a hn_krnl_top build (Model = Vhn_krnl_top
// or Vhn_krnl_top_w32): device memory as 32-bit words, an AXI4 slave of
// the data width BW*32 and an AXI4-Lite master for the control registers.
// The slave accepts every address at once (arready = awready = 1) and
// answers in order: the first beat of a read burst whose address was
// accepted at edge e can be taken at edge e + rd_lat (and after the
// previous burst's last beat), one beat per cycle; write data is taken
// once its burst's address is, and the response is given wr_lat cycles
// after the burst's last beat.  These are the latencies of hn_dma_params.
template <typename Model>
struct AxiBench {
    struct RBurst {
        uint64_t addr;
        unsigned left;
        uint64_t ready;  // edge from which its first beat may be taken
    };
    struct WBurst {
        uint64_t addr;
        unsigned left;
    };
    Model *k;
    std::vector<uint32_t> &mem;
    const int bw;  // 32-bit words per beat
    const int rd_lat, wr_lat;
    uint64_t ticks = 0;
    std::deque<RBurst> rq;
    std::deque<WBurst> wq;
    std::deque<uint64_t> bq;  // edges at which the write responses are due
    bool error = false;
    // Back-pressure (hn_sim_set_axi_stalls): each ready, and each valid the
    // slave has not yet shown, is withheld in a cycle with probability
    // stall_pct %; a shown valid stays until taken (AXI).
    unsigned stall_pct = 0;
    uint64_t rng = 0;
    bool r_shown = false, b_shown = false;

    AxiBench(Model *kk, std::vector<uint32_t> &m, int bw_, int rl, int wl)
        : k(kk), mem(m), bw(bw_), rd_lat(rl), wr_lat(wl) {}

    bool stall() {
        if (!stall_pct) return false;
        rng ^= rng << 13;  // xorshift64
        rng ^= rng >> 7;
        rng ^= rng << 17;
        return rng % 100u < stall_pct;
    }

    void load_beat(uint64_t a, std::vector<uint32_t> &w) {
        for (int i = 0; i < bw; i++) {
            uint64_t at = a / 4 + static_cast<uint64_t>(i);
            if (at >= mem.size()) { error = true; w[static_cast<std::size_t>(i)] = 0; }
            else w[static_cast<std::size_t>(i)] = mem[at];
        }
    }
    void tick() {
        const uint64_t e = ticks + 1;  // the edge that ends this cycle
        std::vector<uint32_t> beat(static_cast<std::size_t>(bw), 0u);
        const bool rv = !rq.empty() && rq.front().ready <= e && (r_shown || !stall());
        if (rv) load_beat(rq.front().addr, beat);
        // slave outputs for this cycle
        k->m_axi_gmem_arready = !stall();
        k->m_axi_gmem_rvalid = rv;
        put(k->m_axi_gmem_rdata, beat);
        k->m_axi_gmem_rlast = rv && rq.front().left == 1;
        k->m_axi_gmem_rresp = 0;
        k->m_axi_gmem_awready = !stall();
        k->m_axi_gmem_wready = !wq.empty() && !stall();
        const bool bv = !bq.empty() && bq.front() <= e && (b_shown || !stall());
        k->m_axi_gmem_bvalid = bv;
        k->m_axi_gmem_bresp = 0;
        k->ap_clk = 0;
        k->eval();
        // handshakes at this edge
        bool ar = k->m_axi_gmem_arvalid && k->m_axi_gmem_arready;
        uint64_t ar_addr = k->m_axi_gmem_araddr;
        unsigned ar_len = k->m_axi_gmem_arlen;
        bool r = k->m_axi_gmem_rvalid && k->m_axi_gmem_rready;
        bool aw = k->m_axi_gmem_awvalid && k->m_axi_gmem_awready;
        uint64_t aw_addr = k->m_axi_gmem_awaddr;
        unsigned aw_len = k->m_axi_gmem_awlen;
        bool w = k->m_axi_gmem_wvalid && k->m_axi_gmem_wready;
        std::vector<uint32_t> w_data(static_cast<std::size_t>(bw));
        for (int i = 0; i < bw; i++) w_data[static_cast<std::size_t>(i)] = word_of(k->m_axi_gmem_wdata, i);
        bool w_last = k->m_axi_gmem_wlast;
        bool b = k->m_axi_gmem_bvalid && k->m_axi_gmem_bready;
        r_shown = rv && !r;
        b_shown = bv && !b;
        k->ap_clk = 1;
        k->eval();
        ticks++;
        if (r) {
            rq.front().addr += 4u * static_cast<unsigned>(bw);
            if (--rq.front().left == 0) rq.pop_front();
        }
        if (ar) rq.push_back({ar_addr, ar_len + 1, e + static_cast<uint64_t>(rd_lat)});
        if (w) {
            WBurst &f = wq.front();
            for (int i = 0; i < bw; i++) {
                uint64_t at = f.addr / 4 + static_cast<uint64_t>(i);
                if (at < mem.size()) mem[at] = w_data[static_cast<std::size_t>(i)];
                else error = true;
            }
            f.addr += 4u * static_cast<unsigned>(bw);
            if ((--f.left == 0) != w_last) error = true;  // wlast on the burst's last beat only
            if (f.left == 0) {
                wq.pop_front();
                bq.push_back(e + static_cast<uint64_t>(wr_lat));
            }
        }
        if (aw) wq.push_back({aw_addr, aw_len + 1});
        if (b) bq.pop_front();
    }
    void reg_write(uint32_t addr, uint32_t data) {
        k->s_axi_control_awvalid = 1;
        k->s_axi_control_awaddr = addr;
        k->s_axi_control_wvalid = 1;
        k->s_axi_control_wdata = data;
        k->s_axi_control_wstrb = 0xf;
        k->s_axi_control_bready = 0;
        bool aw_ok = false, w_ok = false;
        while (!(aw_ok && w_ok)) {
            k->ap_clk = 0;
            k->eval();
            if (k->s_axi_control_awready) aw_ok = true;
            if (k->s_axi_control_wready) w_ok = true;
            tick();
            if (aw_ok) k->s_axi_control_awvalid = 0;
            if (w_ok) k->s_axi_control_wvalid = 0;
        }
        k->s_axi_control_bready = 1;
        for (;;) {
            k->ap_clk = 0;
            k->eval();
            bool done = k->s_axi_control_bvalid;
            tick();
            if (done) break;
        }
        k->s_axi_control_bready = 0;
    }
    uint32_t reg_read(uint32_t addr) {
        k->s_axi_control_arvalid = 1;
        k->s_axi_control_araddr = addr;
        k->s_axi_control_rready = 0;
        for (;;) {
            k->ap_clk = 0;
            k->eval();
            bool ok = k->s_axi_control_arready;
            tick();
            if (ok) break;
        }
        k->s_axi_control_arvalid = 0;
        k->s_axi_control_rready = 1;
        uint32_t v = 0;
        for (;;) {
            k->ap_clk = 0;
            k->eval();
            bool ok = k->s_axi_control_rvalid;
            v = k->s_axi_control_rdata;
            tick();
            if (ok) break;
        }
        k->s_axi_control_rready = 0;
        return v;
    }
};

// Appends a section of n buffer words (wpw 32-bit words each) at an
// HN_HW_AXI_ALIGN-aligned offset (the kernel's pointer rule); returns its
// byte address.
uint64_t place(std::vector<uint32_t> &mem, const uint32_t *words, long n, int wpw) {
    while (mem.size() % (HN_HW_AXI_ALIGN / 4)) mem.push_back(0);
    uint64_t at = mem.size() * 4;
    mem.insert(mem.end(), words, words + static_cast<std::size_t>(n) * static_cast<std::size_t>(wpw));
    return at;
}

// One kernel call per buffer run through the build `Model`.
template <typename Model>
hn_status run_axi(hn_sim *s, Model *k, const hn_hwjob *job, int32_t *acc,
                  uint64_t *cycles) {
    const hn_array_params &p = s->p;
    hn_array_plan &pl = s->plan;
    const hn_dma_params &d = s->dma;
    ImageGuard g;
    hn_array_image &img = g.img;
    HN_TRY(hn_array_pack_weights(job, &p, &pl, &img));
    uint64_t total = 0;
    for (int run = 0; run < pl.runs; run++) {
        const int pt0 = run * pl.pt_per_run;
        const int npt = std::min(pl.pt_per_run, pl.pt - pt0);
        HN_TRY(hn_array_pack_acts(job, &p, &pl, pt0, npt, &img));
        std::vector<uint32_t> mem;
        uint64_t w_ptr = place(mem, img.w, img.n_w, img.w_wpw);
        uint64_t m_ptr = place(mem, img.m, img.n_m, img.m_wpw);
        uint64_t a_ptr = place(mem, img.a, img.n_a, img.a_wpw);
        while (mem.size() % (HN_HW_AXI_ALIGN / 4)) mem.push_back(0);
        uint64_t r_ptr = mem.size() * 4;
        const std::size_t r_words = static_cast<std::size_t>(npt) * pl.c_out * p.dn;
        mem.resize(mem.size() + r_words, 0xdeadbeefu);
        AxiBench<Model> bench(k, mem, d.data_w / 32, d.rd_lat, d.wr_lat);
        bench.stall_pct = s->stall_pct;
        bench.rng = s->stall_seed * 0x9e3779b97f4a7c15ull + static_cast<uint64_t>(run) + 1;
        k->ap_rst_n = 0;
        k->s_axi_control_awvalid = k->s_axi_control_wvalid = 0;
        k->s_axi_control_arvalid = k->s_axi_control_rready = k->s_axi_control_bready = 0;
        bench.tick();
        bench.tick();
        k->ap_rst_n = 1;
        bench.tick();
        const uint64_t ptrs[4] = {w_ptr, m_ptr, a_ptr, r_ptr};
        for (int i = 0; i < 4; i++) {
            bench.reg_write(HN_REG_W_PTR + 8 * i, static_cast<uint32_t>(ptrs[i]));
            bench.reg_write(HN_REG_W_PTR + 4 + 8 * i, static_cast<uint32_t>(ptrs[i] >> 32));
        }
        bench.reg_write(HN_REG_N_W, static_cast<uint32_t>(img.n_w));
        bench.reg_write(HN_REG_N_M, static_cast<uint32_t>(img.n_m));
        bench.reg_write(HN_REG_N_A, static_cast<uint32_t>(img.n_a));
        bench.reg_write(HN_REG_C_OUT, static_cast<uint32_t>(pl.c_out));
        bench.reg_write(HN_REG_MT, static_cast<uint32_t>(pl.mt));
        bench.reg_write(HN_REG_PT, static_cast<uint32_t>(npt));
        bench.reg_write(HN_REG_BA, static_cast<uint32_t>(pl.ba));
        bench.reg_write(HN_REG_KW, static_cast<uint32_t>(pl.kw));
        for (int st = 0; st < 8; st++)
            bench.reg_write(HN_REG_NC + 4 * st, st < pl.ba ? static_cast<uint32_t>(pl.nc[st]) : 0u);
        bench.reg_write(HN_REG_PACKED, static_cast<uint32_t>(pl.packed) |
                                           static_cast<uint32_t>(pl.pm1) << 1);
        uint32_t split = 0;
        for (int st = 0; pl.packed && st < pl.ba; st++)
            split |= static_cast<uint32_t>(pl.split[st]) << (4 * st);
        bench.reg_write(HN_REG_SPLIT, split);
        bench.reg_write(HN_REG_GIE, 1);
        bench.reg_write(HN_REG_IER, 1);  // ap_done
        bench.reg_write(HN_REG_CTRL, 1);  // ap_start
        uint64_t model = hn_cycles_run(&pl, &p, npt);
        uint64_t cap = bench.ticks + 8 * (model + mem.size()) +
                       64 * static_cast<uint64_t>(d.rd_lat + d.wr_lat) + 100000;
        while (!k->__SYM__interrupt) {  // Verilator renames the C++ keyword-like port
            if (bench.ticks >= cap) {
                k->ap_rst_n = 0;
                bench.tick();
                k->ap_rst_n = 1;
                return hn_fail(HN_ERR_TIMEOUT, "hn_sim_run_axi: no interrupt after "
                               "%llu ticks (cap); the kernel was reset",
                               static_cast<unsigned long long>(bench.ticks));
            }
            bench.tick();
        }
        uint32_t ctrl = bench.reg_read(HN_REG_CTRL);
        uint32_t cyc = bench.reg_read(HN_REG_CYCLES);
        uint32_t status = bench.reg_read(HN_REG_STATUS);
        s->axi_kcycles += bench.reg_read(HN_REG_KCYCLES);
        s->ticks += bench.ticks;
        if (!(ctrl & 2u) || status || bench.error)
            return hn_fail(HN_ERR_INTERNAL, "hn_sim_run_axi: kernel finished with "
                           "CTRL=0x%x status=0x%x%s", ctrl, status,
                           bench.error ? ", an access outside device memory or a "
                           "misplaced wlast" : "");
        total += cyc;
        for (int lp = 0; lp < npt; lp++)
            for (int f = 0; f < pl.c_out; f++)
                for (int nn = 0; nn < p.dn; nn++) {
                    int px = (pt0 + lp) * p.dn + nn;
                    if (px >= pl.pixels) break;
                    acc[static_cast<std::size_t>(f) * pl.pixels + px] = static_cast<int32_t>(
                        mem[r_ptr / 4 + (static_cast<std::size_t>(lp) * pl.c_out + f) * p.dn + nn]);
                }
    }
    if (cycles) *cycles = total;
    return HN_OK;
}

// The kernel builds verilated into hn_sim (sim/CMakeLists.txt): the
// default width and a 32-bit one, each with its read-outstanding count.
const hn_dma_params k_axi_builds[2] = {
    {1, 1, HN_SIM_AXI_W, HN_SIM_AXI_RD_OUT},
    {1, 1, 32, HN_SIM_AXI32_RD_OUT},
};

}  // namespace

extern "C" {

int hn_sim_axi_builds(hn_dma_params out[2]) {
    out[0] = k_axi_builds[0];
    out[1] = k_axi_builds[1];
    return 2;
}

hn_status hn_sim_set_axi(hn_sim *s, const hn_dma_params *d) {
    bool built = false;
    for (const hn_dma_params &b : k_axi_builds)
        if (b.data_w == d->data_w && b.rd_out == d->rd_out) built = true;
    if (!built)
        return hn_fail(HN_ERR_UNSUPPORTED, "hn_sim_set_axi: no kernel build with "
                       "a %d-bit m_axi port and %d read bursts outstanding "
                       "(built: %d/%d and %d/%d)", d->data_w, d->rd_out,
                       k_axi_builds[0].data_w, k_axi_builds[0].rd_out,
                       k_axi_builds[1].data_w, k_axi_builds[1].rd_out);
    if (d->rd_lat < 1 || d->wr_lat < 1 || d->rd_lat > 100000 || d->wr_lat > 100000)
        return hn_fail(HN_ERR_RANGE, "hn_sim_set_axi: latencies %d/%d must be "
                       "1..100000", d->rd_lat, d->wr_lat);
    s->dma = *d;
    return HN_OK;
}

hn_dma_params hn_sim_axi(const hn_sim *s) { return s->dma; }

hn_status hn_sim_set_axi_stalls(hn_sim *s, unsigned percent, uint64_t seed) {
    if (percent > 90)
        return hn_fail(HN_ERR_RANGE, "hn_sim_set_axi_stalls: %u%% stalls: 0..90",
                       percent);
    s->stall_pct = percent;
    s->stall_seed = seed;
    return HN_OK;
}

hn_status hn_sim_run_axi(hn_sim *s, const hn_hwjob *job, int32_t *acc,
                         uint64_t *cycles) {
    if (cycles) *cycles = 0;
    const hn_array_params &p = s->p;
    const hn_array_params d = hn_array_params_default();
    if (p.dm != d.dm || p.dn != d.dn || p.dk != d.dk || p.acc_w != d.acc_w)
        return hn_fail(HN_ERR_UNSUPPORTED, "hn_sim_run_axi: the kernel wrapper "
                       "is built at the default array size only");
    HN_TRY(hn_array_plan_job(job, &p, &s->plan));
    HN_TRY(hn_hwjob_validate(job, p.wbits_max, p.abits_max));
    s->axi_kcycles = 0;
    static std::atomic<unsigned> serial{0};
    if (s->dma.data_w != k_axi_builds[0].data_w || s->dma.rd_out != k_axi_builds[0].rd_out) {
        if (!s->krnl32) {
            std::string name = "hn_krnl32_" + std::to_string(serial++);
            s->krnl32.reset(new Vhn_krnl_top_w32(shared_context(), name.c_str()));
        }
        return run_axi(s, s->krnl32.get(), job, acc, cycles);
    }
    if (!s->krnl) {
        std::string name = "hn_krnl" + std::to_string(serial++);
        s->krnl.reset(new Vhn_krnl_top(shared_context(), name.c_str()));
    }
    return run_axi(s, s->krnl.get(), job, acc, cycles);
}

uint64_t hn_sim_axi_kernel_cycles(const hn_sim *s) { return s->axi_kcycles; }

}  // extern "C"

// ---- the verilator backend (backend.h), registered before main() ----------
namespace {

hn_status vl_open(const hn_backend_opts *o, void **state) {
    hn_sim_opts so = hn_sim_opts_default();
    if (o->trace_path) so.trace_path = o->trace_path;
    if (o->cycle_cap) so.cycle_cap = o->cycle_cap;
    hn_sim *s = nullptr;
    HN_TRY(hn_sim_open(&so, &s));
    *state = s;
    return HN_OK;
}

hn_status vl_run(void *state, const hn_hwjob *job, int32_t *acc,
                 uint64_t *cycles, uint64_t *work) {
    (void)work;
    return hn_sim_run(static_cast<hn_sim *>(state), job, acc, cycles);
}

const hn_array_params *vl_array(void *state) {
    return hn_sim_params(static_cast<hn_sim *>(state));
}

void vl_stats(void *state, hn_backend_stats *s) {
    hn_sim_stats(static_cast<hn_sim *>(state), nullptr, &s->ticks);
}

void vl_close(void *state) { hn_sim_close(static_cast<hn_sim *>(state)); }

const hn_backend_ops k_verilator = {
    "verilator", "the RTL array (rtl/hn_core.sv) under Verilator, cycle-accurate",
    1, 1, vl_open, vl_run, vl_array, vl_stats, vl_close, nullptr, 0, 0};

struct Register {
    Register() { hn_backend_register(&k_verilator); }
} g_register;

}  // namespace
