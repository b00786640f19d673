#pragma once

#include <cstdint>

namespace vocalmidi::host
{

/** What HostedPlugin's calls return: ok (0), or why not (negative); the reason, one line,
    is in HostedPlugin::lastError(). */
enum Status : int
{
    ok = 0,
    badArgument = -1,   ///< a bad argument (null pointer, out-of-range index or value)
    wrongState = -2,    ///< wrong order: nothing loaded, not prepared
    loadFailed = -3,    ///< the plugin could not be found or instantiated
    layoutRefused = -4, ///< the plugin refuses the requested channel counts
    pluginRefused = -5  ///< the plugin rejected the request (state, text value) or threw
};

/** One MIDI event in a buffer: `sample` counts from the first sample of a process() call
    (output) or is where to deliver it in that call (input); its `size` bytes start at
    `offset` in the accompanying byte array. Plain data, so a caller can lay out an array
    of them itself (numpy: int64, int32, int32). */
struct MidiEvent
{
    int64_t sample;
    int32_t offset;
    int32_t size;
};

} // namespace vocalmidi::host
