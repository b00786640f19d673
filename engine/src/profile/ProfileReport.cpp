#include "profile/ProfileReport.h"

#include <nlohmann/json.hpp>

namespace vocalmidi {

namespace {

using nlohmann::json;

double num(const json& j, std::initializer_list<const char*> path, double fallback = 0.0) {
    const json* cur = &j;
    for (const char* key : path) {
        if (!cur->is_object() || !cur->contains(key)) return fallback;
        cur = &(*cur)[key];
    }
    return cur->is_number() ? cur->get<double>() : fallback;
}

// One figure: `value` against `limit` (at most, or at least when atLeast).
json figure(const char* id, const char* label, double value, const char* unit, double limit,
            const char* why, bool atLeast = false) {
    const bool ok = atLeast ? value >= limit : value <= limit;
    return json{{"id", id}, {"label", label}, {"value", value}, {"unit", unit},
                {"target", (atLeast ? ">= " : "<= ") + json(limit).dump()}, {"limit", limit},
                {"ok", ok}, {"why", why}};
}

}  // namespace

std::string ProfileReport::fromStats(const std::string& statsJson) {
    const json s = json::parse(statsJson);
    const double rate = num(s, {"model", "rate"}), hop = num(s, {"model", "hop"});
    const double hopUs = rate > 0 ? hop * 1e6 / rate : 0.0;
    const double blockUs = num(s, {"audio", "block_budget_us"});
    const auto stage = [&](const char* timer, const char* field) { return num(s, {"timers", timer, field}); };
    json figs = json::array();
    // Per-stage cost: the mean per hop of audio (a catch-up call analyses many hops at
    // once), against a hop's budget of 10 % of a core split into resampling 1 %, model 8 %,
    // decoder 1 %; and the p99 per call, which must stay under a hop (the next frame would
    // be late).
    const double frames = num(s, {"ml", "frames_analysed"});
    const auto perHop = [&](const char* timer) {
        return frames > 0 ? stage(timer, "mean_us") * stage(timer, "count") / frames : 0.0;
    };
    figs.push_back(figure("resample_mean_us", "resample, mean per hop", perHop("resample"), "us",
                          0.01 * hopUs, "1 % of a hop"));
    figs.push_back(figure("resample_p99_us", "resample, p99 per call", stage("resample", "p99_us"), "us", hopUs,
                          "one hop"));
    figs.push_back(figure("model_mean_us", "model, mean per hop", perHop("inference"), "us",
                          0.08 * hopUs, "8 % of a hop"));
    figs.push_back(figure("model_p99_us", "model, p99 per call", stage("inference", "p99_us"), "us", hopUs,
                          "one hop"));
    figs.push_back(figure("decoder_mean_us", "decoder, mean per hop", perHop("tracking"), "us",
                          0.01 * hopUs, "1 % of a hop"));
    figs.push_back(figure("decoder_p99_us", "decoder, p99 per call", stage("tracking", "p99_us"), "us", hopUs,
                          "one hop"));
    // Offline the ML work runs inline (no ML thread): its share is the stages' time over the
    // audio's duration.
    double mlShare = num(s, {"ml", "cpu_share"});
    const bool realtime = s.value("realtime", false);
    if (!realtime) {
        double busyUs = 0.0;
        for (const char* t : {"resample", "inference", "tracking"}) busyUs += stage(t, "mean_us") * stage(t, "count");
        const double audioS = rate > 0 ? num(s, {"ml", "frames_analysed"}) * hop / rate : 0.0;
        mlShare = audioS > 0 ? busyUs * 1e-6 / audioS : 0.0;
    }
    figs.push_back(figure("ml_cpu_share", realtime ? "ML thread, share of a core" : "ML work, share of a core (inline)",
                          mlShare, "share", 0.10, "10 % of a core"));
    const double auMean = num(s, {"timers", "audio_block", "mean_us"});
    const double auP99 = num(s, {"timers", "audio_block", "p99_us"});
    // Offline, process() runs the ML work inline: its time says nothing about an audio thread.
    if (realtime) {
        figs.push_back(figure("audio_block_share_mean", "audio thread, mean share of the block time",
                              blockUs > 0 ? auMean / blockUs : 0.0, "share", 0.02, "2 % of the block time"));
        figs.push_back(figure("audio_block_share_p99", "audio thread, p99 share of the block time",
                              blockUs > 0 ? auP99 / blockUs : 0.0, "share", 0.02, "2 % of the block time"));
    }
    const double cap = num(s, {"queues", "audio_to_ml_capacity"}, 1.0);
    figs.push_back(figure("queue_fill", "audio-to-ML queue fill (now)",
                          cap > 0 ? num(s, {"queues", "audio_to_ml_fill"}) / cap : 0.0, "share", 0.25,
                          "a quarter of the 2 s queue"));
    figs.push_back(figure("frames_dropped", "frames dropped", num(s, {"ml", "frames_dropped"}), "frames", 0,
                          "no audio skipped"));
    figs.push_back(figure("frames_late", "frames analysed late (caught up)", num(s, {"ml", "frames_late"}),
                          "frames", 0, "the ML thread keeps up"));
    figs.push_back(figure("deadline_misses", "events sent later than a hop after due",
                          num(s, {"latency", "deadline_misses"}), "events", 0, "every event on time"));
    figs.push_back(figure("overflow_samples", "audio queue overflow", num(s, {"audio", "overflow_samples"}),
                          "samples", 0, "the ML side drains the queue"));
    figs.push_back(figure("model_errors", "model errors", num(s, {"ml", "model_errors"}), "", 0,
                          "every model call succeeds"));
    figs.push_back(figure("priority_inversions", "audio thread waits on a parameter writer",
                          num(s, {"threads", "audio_priority_inversions"}), "", 0, "the audio thread never waits"));
    const bool events = num(s, {"latency", "events"}) > 0;
    figs.push_back(figure("emission_latency_mean_ms", "emission latency after the sounded onset, mean",
                          events ? num(s, {"latency", "measured_emission_latency_ms_mean"}) : 0.0, "ms", 25,
                          "feels instant (issue 14)"));
    figs.push_back(figure("emission_latency_p99_ms", "emission latency after the sounded onset, p99",
                          events ? num(s, {"latency", "measured_emission_latency_ms_p99"}) : 0.0, "ms", 60,
                          "issue 14's p95 bound"));

    json warnings = json::array();
    for (const auto& f : figs)
        if (!f["ok"].get<bool>())
            warnings.push_back(f["label"].get<std::string>() + " is " + json(f["value"]).dump() + " " +
                               f["unit"].get<std::string>() + ", target " + f["target"].get<std::string>());
    json r;
    r["schema"] = "vocalmidi-profile/1";
    r["model"] = s["model"];
    r["realtime"] = s["realtime"];
    r["sample_rate"] = s["sample_rate"];
    r["max_block"] = s["max_block"];
    r["latency_mode"] = s["latency"].value("mode", "");
    r["reported_latency_ms"] = num(s, {"latency", "algorithmic_ms"});
    r["figures"] = figs;
    r["warnings"] = warnings;
    // Which thread did what: the audio thread only moves samples and events; the ML thread
    // resamples, runs the model and decodes, at a lower priority.
    r["threads"] = {
        {"audio", {{"does", "moves samples into the queue, places events"},
                   {"blocks", num(s, {"audio", "blocks"})},
                   {"mean_us", auMean},
                   {"p99_us", auP99},
                   {"block_budget_us", blockUs},
                   {"priority", "the host's audio thread"}}},
        {"ml", {{"does", "resample, model, decoder"},
                {"priority", s["ml"].value("thread_priority", "none")},
                {"cpu_seconds", num(s, {"ml", "cpu_seconds"})},
                {"wall_seconds", num(s, {"ml", "wall_seconds"})},
                {"cpu_share", num(s, {"ml", "cpu_share"})},
                {"frames_analysed", num(s, {"ml", "frames_analysed"})},
                {"catch_up_calls", num(s, {"ml", "catch_up_calls"})},
                {"max_catch_up_hops", num(s, {"ml", "max_catch_up_hops"})}}},
        {"contention", {{"audio_priority_inversions", num(s, {"threads", "audio_priority_inversions"})},
                        {"offline_inline_ml_steps", num(s, {"threads", "offline_inline_ml_steps"})}}}};
    r["stats"] = s;
    return r.dump(2);
}

}  // namespace vocalmidi
