/* libvocalmidi_live: a JACK client that runs the VocalMIDI engine in JACK's real-time
 * process callback: audio input port -> engine -> MIDI output port.
 *
 * Every note event the callback writes to the MIDI port is also pushed into a lock-free
 * single-producer/single-consumer queue that a control thread polls (vml_poll), e.g. to
 * forward it to another MIDI API or draw it. Python binds this with ctypes
 * (vocalmidi/live/native.py).
 *
 * Threads: every call is a control call (one thread at a time) except vml_poll and
 * vml_stats_json, which may run on one other thread while the client is active. The
 * process callback never locks, allocates or logs.
 *
 * Errors: int functions return 0 (or a count) on success and a negative value on
 * error; vml_last_error(client) says why (vml_last_error(NULL) for vml_create). */
#ifndef VOCALMIDI_LIVE_H
#define VOCALMIDI_LIVE_H

#include <stdint.h>

#if defined(_WIN32)
#define VML_API __declspec(dllexport)
#else
#define VML_API __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vml_client vml_client;

/* One event as it left the MIDI port. type: 0 note-on, 1 note-off, 2 pitch bend. */
typedef struct vml_event {
    uint8_t type;
    uint8_t channel;  /* 1..16 */
    uint8_t note;
    uint8_t velocity;
    int16_t bend;     /* -8192..8191 */
    int16_t reserved;
    int64_t frame;    /* JACK frame time of the event (jack_last_frame_time + offset) */
} vml_event;

VML_API const char* vml_last_error(const vml_client* c);

/* Opens a JACK client (server_name NULL: $JACK_DEFAULT_SERVER or the default server)
 * with one audio input port "in" and one MIDI output port "midi_out". Does not start
 * a server. */
VML_API vml_client* vml_create(const char* client_name, const char* server_name);
VML_API void vml_destroy(vml_client* c);

/* The engine model (kind: "swiftf0" | "crepe-tiny" | "pesto" | "basic-pitch"). */
VML_API int vml_load_model(vml_client* c, const char* kind, const char* onnx_path);
/* Engine parameters by their C-API names (see vocalmidi_c.h), from any control thread,
 * also while active. */
VML_API int vml_set_param(vml_client* c, const char* name, double value);

/* Prepares the engine at the server's rate and buffer size and activates the client. */
VML_API int vml_start(vml_client* c);
/* Ends sounding notes on the MIDI port (note-offs in the next cycle), then deactivates.
 * Returns the number of note-offs sent. */
VML_API int vml_stop(vml_client* c);

/* Full JACK names of our ports, e.g. "vocalmidi:in". */
VML_API const char* vml_input_port(const vml_client* c);
VML_API const char* vml_output_port(const vml_client* c);
/* Connect any two ports of the server (e.g. "system:capture_1" -> vml_input_port). */
VML_API int vml_connect(vml_client* c, const char* source, const char* destination);

VML_API int vml_sample_rate(const vml_client* c);
VML_API int vml_buffer_size(const vml_client* c);
/* Engine latency plus one JACK period (samples). */
VML_API int vml_latency_samples(const vml_client* c);
VML_API int64_t vml_frame_time(const vml_client* c);

/* Pops up to max_out events; returns how many. */
VML_API int vml_poll(vml_client* c, vml_event* out, int max_out);

/* JSON: {"level_db", "pitch_hz", "cpu_load", "callback_us_mean", "callback_us_max",
 * "xruns", "cycles", "events", "dropped_events", "latency_samples", "sample_rate",
 * "buffer_size", "engine": {...engine stats...}}. Returns the length needed
 * (call again with a larger buffer if it is larger than buf_len). */
VML_API int vml_stats_json(vml_client* c, char* buf, int buf_len);

#ifdef __cplusplus
}
#endif
#endif
