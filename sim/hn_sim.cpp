// hn_sim: the C API of include/hetnas/sim.h over the Verilator model of
// rtl/hn_core.sv.  It packs a conv job into the array's memory image
// (docs/hardware.md, "Memory image"), loads it through the buffer write
// ports, runs the array and reads the accumulators back.
#include "hetnas/sim.h"

#include <cstdarg>
#include <cstring>
#include <atomic>
#include <memory>
#include <string>
#include <new>
#include <vector>

#include "Vhn_core.h"
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
    hn_array_params p;
    uint64_t cycle_cap = 0;
    uint64_t time = 0;
    uint64_t array_cycles = 0;
    uint64_t ticks = 0;
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
    delete s;
}

const hn_array_params *hn_sim_params(const hn_sim *s) { return &s->p; }

void hn_sim_stats(const hn_sim *s, uint64_t *array_cycles,
                  uint64_t *total_ticks) {
    if (array_cycles) *array_cycles = s->array_cycles;
    if (total_ticks) *total_ticks = s->ticks;
}

hn_status hn_sim_run(hn_sim *s, const hn_hwjob *job, int32_t *acc,
                     uint64_t *cycles) {
    if (cycles) *cycles = 0;
    const hn_array_params &p = s->p;
    hn_array_plan &pl = s->plan;
    HN_TRY(hn_array_plan_job(job, &p, &pl));
    HN_TRY(hn_hwjob_validate(job, p.wbits_max, p.abits_max));
    const int k = job->k, kk = k * k, c_in = pl.c_in, c_out = pl.c_out;
    const int K = kk * c_in;  // reduction length in image order
    const int meta_w = p.filt_w + 3;

    // Per filter: its bits; per sorted rank: the original channel.
    std::vector<int> fbits(static_cast<std::size_t>(c_out));
    for (int g = 0, f = 0; g < job->n_out_groups; g++)
        for (int i = 0; i < job->out_groups[g].n; i++) fbits[static_cast<std::size_t>(f++)] = job->out_groups[g].bits;

    // ---- weights and row descriptors: rows (f, i), filters in order, each
    // filter's weight planes MSB first (hn_drain applies them Horner-style)
    Bits wword(p.dm * p.dk), mword(p.dm * meta_w);
    std::vector<int> row_f, row_i;
    for (int f = 0; f < c_out; f++)
        for (int i = fbits[static_cast<std::size_t>(f)] - 1; i >= 0; i--) {
            row_f.push_back(f);
            row_i.push_back(i);
        }
    for (int mt = 0; mt < pl.mt; mt++) {
        mword.clear();
        for (int m = 0; m < p.dm; m++) {
            int r = mt * p.dm + m;
            if (r >= pl.rows) continue;
            int f = row_f[static_cast<std::size_t>(r)], i = row_i[static_cast<std::size_t>(r)];
            int bw = fbits[static_cast<std::size_t>(f)];
            // {valid, first (MSB plane), last (plane 0), filt}
            uint32_t meta = static_cast<uint32_t>(f) |
                            static_cast<uint32_t>(i == 0) << p.filt_w |
                            static_cast<uint32_t>(i == bw - 1) << (p.filt_w + 1) |
                            1u << (p.filt_w + 2);
            mword.put_field(m * meta_w, meta_w, meta);
        }
        put(s->top->mmem_data_i, mword.w);
        s->top->mmem_addr_i = mt;
        s->top->mmem_we_i = 1;
        s->tick();
        s->top->mmem_we_i = 0;
        for (int c = 0; c < pl.kw; c++) {
            wword.clear();
            for (int m = 0; m < p.dm; m++) {
                int r = mt * p.dm + m;
                if (r >= pl.rows) continue;
                int f = row_f[static_cast<std::size_t>(r)], i = row_i[static_cast<std::size_t>(r)];
                const int32_t *wf = job->weights + static_cast<std::size_t>(f) * K;
                for (int l = 0; l < p.dk; l++) {
                    int q = c * p.dk + l;
                    if (q >= K) break;
                    int ch = pl.order[q / kk], kpos = q % kk;
                    uint32_t w = static_cast<uint32_t>(wf[static_cast<std::size_t>(ch) * kk + kpos]);
                    if ((w >> i) & 1u) wword.set(m * p.dk + l);
                }
            }
            put(s->top->wmem_data_i, wword.w);
            s->top->wmem_addr_i = mt * pl.kw + c;
            s->top->wmem_we_i = 1;
            s->tick();
            s->top->wmem_we_i = 0;
        }
    }

    // ---- activation runs ----------------------------------------------------
    Bits aword(p.dn * p.dk), ncw(8 * p.kw_w);
    for (int st = 0; st < pl.ba; st++) ncw.put_field(st * p.kw_w, p.kw_w, static_cast<uint32_t>(pl.nc[st]));
    std::vector<int32_t> col(static_cast<std::size_t>(p.dn) * K);  // im2col of a tile
    uint64_t total = 0;
    for (int run = 0; run < pl.runs; run++) {
        const int pt0 = run * pl.pt_per_run;
        const int npt = std::min(pl.pt_per_run, pl.pt - pt0);
        for (int lp = 0; lp < npt; lp++) {
            // im2col of this tile's pixels in image order (sorted channels).
            for (int n = 0; n < p.dn; n++) {
                int px = (pt0 + lp) * p.dn + n;
                int32_t *cv = &col[static_cast<std::size_t>(n) * K];
                if (px >= pl.pixels) {
                    std::fill(cv, cv + K, 0);
                    continue;
                }
                int oy = px / pl.out_w, ox = px % pl.out_w;
                for (int q = 0; q < K; q++) {
                    int ch = pl.order[q / kk], kpos = q % kk;
                    int iy = oy * job->stride - job->pad + kpos / k;
                    int ix = ox * job->stride - job->pad + kpos % k;
                    cv[q] = (iy < 0 || ix < 0 || iy >= job->in_h || ix >= job->in_w)
                                ? 0
                                : job->acts[(static_cast<std::size_t>(ch) * job->in_h + iy) * job->in_w + ix];
                }
            }
            for (int st = 0; st < pl.ba; st++) {
                int j = pl.ba - 1 - st;
                for (int c = 0; c < pl.nc[st]; c++) {
                    aword.clear();
                    for (int n = 0; n < p.dn; n++) {
                        const int32_t *cv = &col[static_cast<std::size_t>(n) * K];
                        for (int l = 0; l < p.dk; l++) {
                            int q = c * p.dk + l;
                            if (q >= K) break;
                            if ((static_cast<uint32_t>(cv[q]) >> j) & 1u) aword.set(n * p.dk + l);
                        }
                    }
                    put(s->top->amem_data_i, aword.w);
                    s->top->amem_addr_i = (lp * pl.ba + st) * pl.kw + c;
                    s->top->amem_we_i = 1;
                    s->tick();
                    s->top->amem_we_i = 0;
                }
            }
        }
        // ---- run --------------------------------------------------------------
        s->top->cfg_mt_i = pl.mt;
        s->top->cfg_pt_i = npt;
        s->top->cfg_ba_i = pl.ba;
        s->top->cfg_kw_i = pl.kw;
        put(s->top->cfg_nc_i, ncw.w);
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
            for (int f = 0; f < c_out; f++) {
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
