/* C API of the engine, for Python (ctypes) and any other language.
 * Thread rules are those of vocalmidi::Engine: create/load/prepare/destroy from one
 * control thread; vm_engine_process from one processing thread; stats and params from any.
 * Every call returning int returns 0 (or a count) on success and a negative value on
 * error; vm_engine_last_error then says why. */
#ifndef VOCALMIDI_C_H
#define VOCALMIDI_C_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define VM_API __declspec(dllexport)
#else
#define VM_API __attribute__((visibility("default")))
#endif

typedef struct vm_engine vm_engine;

/* Same layout as vocalmidi::NoteEvent. type: 0 note-on, 1 note-off, 2 pitch bend. */
typedef struct vm_event {
    uint8_t type;
    uint8_t channel;
    uint8_t note;
    uint8_t velocity;
    int16_t bend;
    int32_t sample_offset;
} vm_event;

VM_API const char* vm_version(void);
/* JSON: {"version": "...", "providers": ["CPUExecutionProvider", ...]} */
VM_API int vm_onnxruntime_info_json(char* buf, int buf_len);

VM_API vm_engine* vm_engine_create(void);
VM_API void vm_engine_destroy(vm_engine* e);
VM_API const char* vm_engine_last_error(vm_engine* e);

/* kind: "swiftf0" | "crepe-tiny" | "pesto" | "basic-pitch" | "vocalnote". Loads and warms up the model on
 * the calling thread, then swaps it in atomically. */
VM_API int vm_engine_load_model(vm_engine* e, const char* kind, const char* onnx_path);
/* realtime = 0: offline; process() waits for the ML thread (deterministic output). */
VM_API int vm_engine_prepare(vm_engine* e, double sample_rate, int max_block, int realtime);
VM_API void vm_engine_release(vm_engine* e);
VM_API void vm_engine_reset(vm_engine* e);
/* Parameter names are the Params field names in snake_case (input_gain_db, sensitivity,
 * min_note_ms, bend_mode, bend_range_semitones, key_root, scale, velocity_mode,
 * velocity_curve, fixed_velocity, midi_channel, note_min, note_max, latency_mode (0 fast,
 * 1 accurate, 2 instant), early_correction (0 retrigger, 1 bend; note model only),
 * aligned_timing (0 immediate, 1 aligned: events held one block + 5 ms, reported too)). */
VM_API int vm_engine_set_param(vm_engine* e, const char* name, double value);
VM_API int vm_engine_get_param(vm_engine* e, const char* name, double* value);
/* Returns the number of events written to out (<= max_out). */
VM_API int vm_engine_process(vm_engine* e, const float* in, int num_samples, vm_event* out, int max_out);
/* Offline only: drain what the model still holds (its lookahead) at the end of a stream. */
VM_API int vm_engine_flush(vm_engine* e, vm_event* out, int max_out);
VM_API int vm_engine_latency_samples(vm_engine* e);
/* Profiler/latency/thread stats as JSON. Returns the length needed (call again if larger). */
VM_API int vm_engine_stats_json(vm_engine* e, char* buf, int buf_len);
/* The same stats as a report: each figure beside its target, warnings where it misses
 * (schema "vocalmidi-profile/1"). Returns the length needed, like vm_engine_stats_json. */
VM_API int vm_engine_profile_report_json(vm_engine* e, char* buf, int buf_len);

#ifdef __cplusplus
}
#endif
#endif
