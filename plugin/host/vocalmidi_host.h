/* libvocalmidi_host: a headless JUCE plugin host with a C API.
 *
 * It loads a VST3 or LV2 plugin, runs audio (and MIDI) through it and hands back every
 * MIDI event the plugin emitted, with its sample position. Python binds it with ctypes
 * (vocalmidi/hosts/plugin_host.py); pedalboard cannot do this because it drops a plugin's
 * MIDI output. The same classes are also reachable from Python through cppyy
 * (libvocalmidi_juce, vocalmidi/hosts/juce.py).
 *
 * Threads: every call except vmh_process is a "control" call. A control call makes the
 * calling thread JUCE's message thread (plugins require creation, setup and state calls
 * there) and dispatches the JUCE messages that are pending, so no event loop is needed.
 * vmh_process may run on any thread, but never at the same time as another call on the
 * same host. Calls on different hosts may run on different threads.
 *
 * Errors: functions returning int give VMH_OK (0) or a negative VMH_ERR_* code; the
 * reason, one line, is in vmh_last_error(host) (or vmh_last_error(NULL) for calls that
 * have no host yet).
 */
#ifndef VOCALMIDI_HOST_H
#define VOCALMIDI_HOST_H

#include <stddef.h>
#include <stdint.h>

#if defined(_WIN32)
  #if defined(VMH_BUILDING_LIBRARY)
    #define VMH_API __declspec(dllexport)
  #else
    #define VMH_API __declspec(dllimport)
  #endif
#else
  #define VMH_API __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

#define VMH_API_VERSION 1

enum {
    VMH_OK = 0,
    VMH_ERR_ARGUMENT = -1,   /* a bad argument (null pointer, out-of-range index or value) */
    VMH_ERR_STATE = -2,      /* wrong order: nothing loaded, not prepared */
    VMH_ERR_LOAD = -3,       /* the plugin could not be found or instantiated */
    VMH_ERR_LAYOUT = -4,     /* the plugin refuses the requested channel counts */
    VMH_ERR_PLUGIN = -5      /* the plugin rejected the request (state, text value) */
};

typedef struct VmhHost VmhHost;

/* One MIDI event in a buffer: `sample` counts from the first sample of the vmh_process
 * call (for output) or is where to deliver it in that call (for input); its `size` bytes
 * start at `offset` in the accompanying byte array. */
typedef struct VmhMidiEvent {
    int64_t sample;
    int32_t offset;
    int32_t size;
} VmhMidiEvent;

VMH_API int vmh_api_version(void);

/* The reason for the last failure of a call on `host`, or of vmh_create/vmh_list_plugins
 * when `host` is NULL; "" when none. Valid until the next call on the same host. */
VMH_API const char* vmh_last_error(const VmhHost* host);

VMH_API VmhHost* vmh_create(void);
VMH_API void vmh_destroy(VmhHost* host);

/* The plugins a path holds, one per line as "<format>\t<identifier>\t<name>"; the same
 * text is also what vmh_load accepts as `which`. Copies at most `capacity` bytes (with the
 * terminating zero) into `out` and returns the full length, or a negative error. */
VMH_API int vmh_list_plugins(const char* path, char* out, int capacity);

/* Load a plugin: `path` is a VST3 bundle (.vst3), an LV2 bundle (.lv2 folder) or an LV2
 * plugin URI. `which` (may be NULL or "") picks one plugin by name or identifier when the
 * bundle holds several. Replaces any plugin loaded before. */
VMH_API int vmh_load(VmhHost* host, const char* path, const char* which);
VMH_API int vmh_plugin_name(VmhHost* host, char* out, int capacity);
VMH_API int vmh_plugin_format(VmhHost* host, char* out, int capacity);
VMH_API int vmh_accepts_midi(VmhHost* host);
VMH_API int vmh_produces_midi(VmhHost* host);
/* Programs (presets) the plugin offers, by index in [0, vmh_program_count): a VST3's from
 * its units' program lists (IUnitInfo), as DAWs read them. */
VMH_API int vmh_program_count(VmhHost* host);
VMH_API int vmh_program_name(VmhHost* host, int index, char* out, int capacity);

/* Parameters, by index in [0, vmh_parameter_count). Values are normalised to 0..1. */
VMH_API int vmh_parameter_count(VmhHost* host);
/* Index of the parameter named `name` (exact match first, then case-insensitive), or
 * VMH_ERR_ARGUMENT. */
VMH_API int vmh_parameter_index(VmhHost* host, const char* name);
VMH_API int vmh_parameter_name(VmhHost* host, int index, char* out, int capacity);
VMH_API int vmh_parameter_label(VmhHost* host, int index, char* out, int capacity);
VMH_API int vmh_parameter_get(VmhHost* host, int index, float* value);
VMH_API int vmh_parameter_default(VmhHost* host, int index, float* value);
/* Number of discrete steps (0x7fffffff for continuous parameters). */
VMH_API int vmh_parameter_num_steps(VmhHost* host, int index);
/* The plugin's text for the current value (value < 0) or for a given normalised value. */
VMH_API int vmh_parameter_text(VmhHost* host, int index, float value, char* out, int capacity);
VMH_API int vmh_parameter_set(VmhHost* host, int index, float value);
/* Set from text, parsed by the plugin (e.g. "440 Hz", "On"). */
VMH_API int vmh_parameter_set_text(VmhHost* host, int index, const char* text);

/* Get ready to process: sample rate, largest block, channel counts on the main buses. */
VMH_API int vmh_prepare(VmhHost* host, double sample_rate, int max_block_size,
                        int input_channels, int output_channels);
VMH_API int vmh_input_channels(VmhHost* host);
VMH_API int vmh_output_channels(VmhHost* host);
/* Offline rendering: the plugin is told it need not keep up with real time. Re-prepares
 * the plugin when it changes after vmh_prepare. */
VMH_API int vmh_set_non_realtime(VmhHost* host, int non_realtime);
VMH_API int vmh_set_bypassed(VmhHost* host, int bypassed);
/* What the play head reports: playing or stopped, where (in samples), the tempo. While
 * playing, the position advances with every processed block. */
VMH_API int vmh_set_transport(VmhHost* host, int playing, int64_t sample_position, double bpm);
VMH_API int64_t vmh_transport_position(VmhHost* host);

/* Run `num_samples` samples through the plugin in consecutive blocks whose sizes cycle
 * through `block_sizes` (each in 1..max_block_size; NULL or 0 sizes: max_block_size).
 * `input` is planar: input_channels rows of num_samples floats (NULL when there are none);
 * `output` likewise with output_channels rows; they may be the same buffer. `midi_in`
 * events (sorted by sample, positions in 0..num_samples-1) are delivered in their block.
 * Returns the number of MIDI events the plugin emitted (read them with vmh_midi_out_*),
 * or a negative error. */
VMH_API int vmh_process(VmhHost* host, const float* input, float* output, int64_t num_samples,
                        const int32_t* block_sizes, int num_block_sizes,
                        const VmhMidiEvent* midi_in, int num_midi_in,
                        const uint8_t* midi_in_bytes);
/* Pace vmh_process like a real-time host: `speed` 1.0 delivers blocks at the rate real audio
 * hardware would (sleeping between them), 2.0 twice as fast; 0 (the default) as fast as
 * possible. Use with vmh_set_non_realtime(host, 0) to test live behaviour. */
VMH_API int vmh_set_pacing(VmhHost* host, double speed);
/* Allow vmh_process blocks of up to `max_block_size` samples although the plugin was prepared
 * for fewer (some hosts break that promise); 0 restores the prepared maximum. */
VMH_API int vmh_set_block_limit(VmhHost* host, int max_block_size);
/* Heap calls (malloc, free, ...) made on the processing thread inside processBlock during
 * the last vmh_process call, when it ran live (offline calls count none): `calls` with the plugin's own code on the stack (its binary is
 * found by the path given to vmh_load) and the number of `blocks` that made any, and
 * `host_calls`, the host's own (JUCE's hosting code allocates per block).
 * Needs libvocalmidi_alloccount preloaded (LD_PRELOAD); VMH_ERR_STATE otherwise. */
VMH_API int vmh_process_allocations(VmhHost* host, int64_t* calls, int64_t* blocks,
                                    int64_t* host_calls);

/* The MIDI output of the last vmh_process call; valid until the next one. */
VMH_API const VmhMidiEvent* vmh_midi_out_events(VmhHost* host);
VMH_API const uint8_t* vmh_midi_out_bytes(VmhHost* host);
VMH_API int vmh_midi_out_count(VmhHost* host);

VMH_API int vmh_latency_samples(VmhHost* host);
VMH_API int vmh_tail_seconds(VmhHost* host, double* seconds);
VMH_API int vmh_reset(VmhHost* host);
VMH_API int vmh_release(VmhHost* host);

/* State: vmh_state_save takes a snapshot and returns its size; vmh_state_copy copies it. */
VMH_API int64_t vmh_state_save(VmhHost* host);
VMH_API int vmh_state_copy(VmhHost* host, uint8_t* out, int64_t capacity);
VMH_API int vmh_state_load(VmhHost* host, const uint8_t* data, int64_t size);

/* Dispatch pending JUCE messages for up to `milliseconds` (0: only those already pending).
 * Returns how many were dispatched. */
VMH_API int vmh_pump_messages(int milliseconds);

/* Create the plugin's editor, lay it out at its own size and destroy it again (needs an X
 * display, e.g. Xvfb). Writes the editor's width and height. VMH_ERR_PLUGIN when the plugin
 * has no editor. */
VMH_API int vmh_editor_probe(VmhHost* host, int* width, int* height);

/* Show the plugin's editor on the display at (0, 0) for `milliseconds` (it paints; messages
 * are dispatched meanwhile), then close it. Writes its width and height. */
VMH_API int vmh_editor_show(VmhHost* host, int milliseconds, int* width, int* height);

#ifdef __cplusplus
}
#endif

#endif /* VOCALMIDI_HOST_H */
