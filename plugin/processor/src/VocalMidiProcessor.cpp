#include "VocalMidiProcessor.h"

#include <cmath>

#include "PluginState.h"
#include "VocalMidiEditor.h"

namespace vocalmidi::plugin {
namespace {

// The longest latency the dry path can follow (basic-pitch's window plus headroom).
constexpr double kMaxDelaySeconds = 4.0;
// How long an offline render waits for a model to load before going on without it.
constexpr int kOfflineLoadTimeoutMs = 60000;

}  // namespace

VocalMidiProcessor::VocalMidiProcessor()
    : VocalMidiProcessor(BusesProperties()
                             .withInput("Input", juce::AudioChannelSet::stereo(), true)
                             .withOutput("Output", juce::AudioChannelSet::stereo(), true),
                         AudioOut::PassInput) {}

VocalMidiProcessor::VocalMidiProcessor(const BusesProperties& buses, AudioOut out)
    : AudioProcessor(buses),
      audioOut(out),
      state(*this, nullptr, "VocalMIDIParams",
            withVirtualMidiOut(createLayout(), wrapperType == wrapperType_Standalone)),
      reader(state),
      // The loader thread only raises a flag: a message it posted could outlive us.
      loader(engine, [this] { updateWanted.store(true, std::memory_order_release); }) {
    bypassParam = dynamic_cast<juce::AudioParameterBool*>(state.getParameter(ids::bypass));
    virtualOutOn = state.getRawParameterValue(ids::virtualMidiOut);
    events.resize(kMaxEvents);
    loader.request(reader.modelIndex(), reader.device(), true);
    loader.wake();
    startTimerHz(20);
}

VocalMidiProcessor::~VocalMidiProcessor() {
    // Waits for a timer or async update running on the message thread: an LV2 host runs
    // and destroys us on its own thread while JUCE's message thread calls us back.
    const juce::ScopedLock sl(callbackLock);
    stopTimer();
    cancelPendingUpdate();
}

void VocalMidiProcessor::timerCallback() {
    if (updateWanted.exchange(false, std::memory_order_acq_rel))
        handleAsyncUpdate();
    updateVirtualMidiOut();
}

void VocalMidiProcessor::updateVirtualMidiOut() {
    const juce::ScopedLock sl(callbackLock);
    const bool live = prepared.load(std::memory_order_acquire);
    virtualOut.setEnabled(virtualOutOn->load(std::memory_order_relaxed) > 0.5f,
                          live ? preparedRate.load(std::memory_order_relaxed) : 0.0, preparedBlock);
}

bool VocalMidiProcessor::isBusesLayoutSupported(const BusesLayout& layouts) const {
    const auto in = layouts.getMainInputChannelSet();
    const auto out = layouts.getMainOutputChannelSet();
    if (out != juce::AudioChannelSet::mono() && out != juce::AudioChannelSet::stereo())
        return false;
    return in == out;
}

void VocalMidiProcessor::prepareEngine(double sampleRate, int maxBlock, bool offline) {
    const juce::SpinLock::ScopedLockType lock(engineLock);
    engine.prepare(sampleRate, maxBlock, !offline || testFault == TestFault::IgnoreOffline);
    preparedBlock = maxBlock;
    mono.assign(size_t(maxBlock), 0.0f);
    guide.assign(size_t(maxBlock), 0.0f);
    const int channels = std::max(getTotalNumInputChannels(), getTotalNumOutputChannels());
    dryDelay.prepare(channels, int(kMaxDelaySeconds * sampleRate));
    guideTone.prepare(sampleRate);
    loadMeasurer.reset(sampleRate, maxBlock);
    paramsSent = false;
    wasBypassed = false;
    guidePitch = 0.0f;
    samplePos.store(0, std::memory_order_relaxed);
    preparedRate.store(sampleRate, std::memory_order_relaxed);
    preparedOffline.store(offline, std::memory_order_relaxed);
    reprepareWanted.store(false, std::memory_order_relaxed);
    prepared.store(true, std::memory_order_release);
}

void VocalMidiProcessor::prepareToPlay(double sampleRate, int maximumExpectedSamplesPerBlock) {
    const juce::ScopedLock sl(callbackLock);
    const bool offline = isNonRealtime();
    engine.setParams(reader.read());
    prepareEngine(sampleRate, std::max(1, maximumExpectedSamplesPerBlock), offline);
    loader.request(reader.modelIndex(), reader.device(), !offline);
    // An offline render must be the same every time: start it with the model in place and
    // the host told the latency that model has.
    if (offline)
        loader.waitUntilSettled(kOfflineLoadTimeoutMs);
    else
        loader.wake();
    updateLatency();
}

void VocalMidiProcessor::releaseResources() {
    const juce::ScopedLock sl(callbackLock);
    const juce::SpinLock::ScopedLockType lock(engineLock);
    prepared.store(false, std::memory_order_release);
    engine.release();
}

void VocalMidiProcessor::reset() {
    if (testFault == TestFault::LeakNotesOnReset)
        return;  // test hook (TestFault.h)
    engine.reset();
    dryDelay.clear();
    guideTone.reset();
    guidePitch = 0.0f;
    // Notes still sounding are ended at the start of the next block (no MIDI buffer here).
    releasePending.store(true, std::memory_order_relaxed);
}

void VocalMidiProcessor::updateLatency() {
    // basic-pitch left loaded by an offline render gives no notes live: the dry audio need
    // not wait 3.9 s for them.
    const bool noNotesLive = !preparedOffline.load(std::memory_order_relaxed) &&
                             loader.status().active == modelKindId(ModelKind::BasicPitch);
    const int latency = noNotesLive ? 0 : std::max(0, engine.latencySamples());
    dryDelay.setDelay(latency);
    const int reported = latency + (testFault == TestFault::WrongLatency ? kTestFaultLatencyError : 0);
    if (reported != getLatencySamples())
        setLatencySamples(reported);
}

void VocalMidiProcessor::handleAsyncUpdate() {
    const juce::ScopedLock sl(callbackLock);
    if (reprepareWanted.exchange(false) && prepared.load(std::memory_order_acquire)) {
        // The host switched between realtime and offline rendering mid-stream.
        const bool offline = isNonRealtime();
        prepareEngine(preparedRate.load(), preparedBlock, offline);
        loader.request(reader.modelIndex(), reader.device(), !offline);
        loader.wake();
    }
    updateLatency();
}

void VocalMidiProcessor::releaseHeld(juce::MidiBuffer& midi) {
    held.releaseAll([&](int channel, int note) {
        midi.addEvent(juce::MidiMessage::noteOff(channel, note), 0);
        sentNotes.push({samplePos.load(std::memory_order_relaxed), uint8_t(note), 0, uint8_t(channel)});
    });
}

void VocalMidiProcessor::emitEvents(const NoteEvent* ev, int count, int blockStart, int chunkLen,
                                    juce::MidiBuffer& midi) {
    const int64_t base = samplePos.load(std::memory_order_relaxed) + blockStart;
    for (int i = 0; i < count; ++i) {
        const NoteEvent& e = ev[i];
        const int offset = blockStart + juce::jlimit(0, std::max(0, chunkLen - 1), int(e.sampleOffset));
        const int channel = juce::jlimit(1, 16, int(e.channel));
        switch (e.type) {
            case EventType::NoteOn:
                midi.addEvent(juce::MidiMessage::noteOn(channel, e.note & 127,
                                                        juce::uint8(juce::jlimit(1, 127, int(e.velocity)))),
                              offset);
                sentNotes.push({base + (offset - blockStart), uint8_t(e.note & 127),
                                uint8_t(juce::jlimit(1, 127, int(e.velocity))), uint8_t(channel)});
                break;
            case EventType::NoteOff:
                midi.addEvent(juce::MidiMessage::noteOff(channel, e.note & 127), offset);
                sentNotes.push({base + (offset - blockStart), uint8_t(e.note & 127), 0, uint8_t(channel)});
                break;
            case EventType::PitchBend:
                midi.addEvent(juce::MidiMessage::pitchWheel(channel, juce::jlimit(0, 16383, int(e.bend) + 8192)),
                              offset);
                break;
        }
        held.note(e);
    }
}

void VocalMidiProcessor::processBlock(juce::AudioBuffer<float>& buffer, juce::MidiBuffer& midi) {
    juce::ScopedNoDenormals noDenormals;
    if (testFault == TestFault::AllocateInProcess)
        testFaultAllocate();  // test hook (TestFault.h)
    const int n = buffer.getNumSamples();
    const juce::AudioProcessLoadMeasurer::ScopedTimer timer(loadMeasurer, n);
    midi.clear();  // MIDI in is not used; what leaves is ours only

    const int numIn = std::min(getTotalNumInputChannels(), buffer.getNumChannels());
    const int numOut = std::min(getTotalNumOutputChannels(), buffer.getNumChannels());
    for (int c = numIn; c < numOut; ++c)
        buffer.clear(c, 0, n);
    // NaN/Inf from upstream would poison every plugin after us: pass silence instead.
    for (int c = 0; c < numIn; ++c) {
        float* x = buffer.getWritePointer(c);
        for (int i = 0; i < n; ++i)
            if (!std::isfinite(x[i]))
                x[i] = 0.0f;
    }
    if (n <= 0)
        return;

    // Offline rendering has no deadline, so the switch to it happens here and now: the
    // render is deterministic from its first block, also in hosts that run no message loop
    // (an LV2 host says "offline" only through the freeWheeling port, in run()). The way
    // back to realtime re-prepares on the message thread: it allocates.
    if (isNonRealtime() && !preparedOffline.load(std::memory_order_relaxed) &&
        prepared.load(std::memory_order_acquire)) {
        prepareEngine(preparedRate.load(std::memory_order_relaxed), preparedBlock, true);
        loader.request(reader.modelIndex(), reader.device(), false);
        loader.waitUntilSettled(kOfflineLoadTimeoutMs);
        dryDelay.setDelay(std::max(0, engine.latencySamples()));
        updateWanted.store(true, std::memory_order_release);  // tell the host the latency
    }

    const juce::SpinLock::ScopedTryLockType lock(engineLock);
    if (!lock.isLocked() || !prepared.load(std::memory_order_acquire)) {
        if (audioOut == AudioOut::GuideOnly)
            buffer.clear();  // the side-chain is not ours to pass on
        return;  // being re-prepared: audio passes, no notes
    }

    const bool offline = isNonRealtime();
    if (offline != preparedOffline.load(std::memory_order_relaxed) &&
        !reprepareWanted.exchange(true))
        updateWanted.store(true, std::memory_order_release);

    loader.request(reader.modelIndex(), reader.device(), !offline);
    if (offline && !loader.isSettled()) {
        // Offline may wait; realtime never. The dry path takes the new model's latency at
        // this block, as the notes do, also in a host that runs no message loop.
        loader.waitUntilSettled(kOfflineLoadTimeoutMs);
        dryDelay.setDelay(std::max(0, engine.latencySamples()));
        updateWanted.store(true, std::memory_order_release);  // tell the host the latency
    }

    const Params p = reader.read();
    if (!paramsSent || p != lastParams) {
        // The latency follows the mode, the minimum note length (the decision waits for it)
        // and the MIDI timing.
        const bool latencyMayChange = !paramsSent || p.latencyMode != lastParams.latencyMode ||
                                      p.minNoteMs != lastParams.minNoteMs ||
                                      p.alignedTiming != lastParams.alignedTiming;
        engine.setParams(p);
        lastParams = p;
        paramsSent = true;
        if (latencyMayChange)
            updateWanted.store(true, std::memory_order_release);
    }

    if (releasePending.exchange(false, std::memory_order_relaxed))
        releaseHeld(midi);

    const bool bypassed = bypassParam != nullptr && bypassParam->get();
    if (bypassed) {
        if (held.any())
            releaseHeld(midi);
        wasBypassed = true;
    } else if (wasBypassed) {
        engine.reset();  // don't emit what was heard before the bypass
        wasBypassed = false;
    }
    const float mix = bypassed ? 0.0f : juce::jlimit(0.0f, 1.0f, reader.monitorMix());
    if (mix <= 0.0f)
        guideTone.reset();

    const float scale = numIn > 0 ? 1.0f / float(numIn) : 0.0f;
    float* outPtrs[kMaxChannels] = {};
    const int numDelayed = std::min(numOut, kMaxChannels);
    for (int start = 0; start < n; start += preparedBlock) {
        const int len = std::min(preparedBlock, n - start);
        if (!bypassed) {
            std::fill(mono.begin(), mono.begin() + len, 0.0f);
            for (int c = 0; c < numIn; ++c)
                juce::FloatVectorOperations::addWithMultiply(mono.data(), buffer.getReadPointer(c, start), scale,
                                                             len);
            if (mix > 0.0f)
                std::fill(guide.begin(), guide.begin() + len, 0.0f);
            // The engine runs in pieces that end on a fixed grid of absolute sample positions,
            // and the guide tone takes its pitch only there: offline, where the engine is
            // deterministic at every position, the guide tone is then the same for any block size.
            int done = 0;
            while (done < len) {
                const int64_t pos = samplePos.load(std::memory_order_relaxed) + start + done;
                const int toGrid = int(kPitchGrid - pos % kPitchGrid);
                const int piece = std::min(len - done, toGrid);
                const int count = engine.process(mono.data() + done, piece, events.data(), kMaxEvents);
                emitEvents(events.data(), count, start + done, piece, midi);
                if (mix > 0.0f)
                    guideTone.render(guide.data() + done, piece, guidePitch, 1.0f);
                done += piece;
                if (piece == toGrid)
                    guidePitch = engine.currentPitchHz();
            }
        }
        if (audioOut == AudioOut::GuideOnly) {
            for (int c = 0; c < numOut; ++c)
                buffer.clear(c, start, len);  // the side-chain was read into mono above
        } else {
            for (int c = 0; c < numDelayed; ++c)
                outPtrs[c] = buffer.getWritePointer(c, start);
            dryDelay.process(outPtrs, numDelayed, len);
        }
        if (mix > 0.0f) {
            for (int c = 0; c < numOut; ++c) {
                float* out = buffer.getWritePointer(c, start);
                juce::FloatVectorOperations::multiply(out, 1.0f - mix, len);
                juce::FloatVectorOperations::addWithMultiply(out, guide.data(), mix, len);
            }
        }
    }
    virtualOut.send(midi, samplePos.load(std::memory_order_relaxed));
    samplePos.fetch_add(n, std::memory_order_relaxed);
}

void VocalMidiProcessor::getStateInformation(juce::MemoryBlock& destData) {
    PluginState::save(state, destData);
}

void VocalMidiProcessor::setStateInformation(const void* data, int sizeInBytes) {
    if (PluginState::restore(state, data, sizeInBytes)) {
        loader.request(reader.modelIndex(), reader.device(), !isNonRealtime());
        loader.wake();
    }
}

juce::AudioProcessorEditor* VocalMidiProcessor::createEditor() {
    return new VocalMidiEditor(*this);
}

}  // namespace vocalmidi::plugin

#if !VOCALMIDI_INSTRUMENT  // the instrument's entry point is in plugin/instrument
juce::AudioProcessor* JUCE_CALLTYPE createPluginFilter() {
    return new vocalmidi::plugin::VocalMidiProcessor();
}
#endif
