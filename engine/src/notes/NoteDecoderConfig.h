// The note decoder's thresholds: decode.py's DecoderConfig, with the same defaults; a
// trained model ships its tuned ones (`vocalmidi.decoder` metadata, read by NoteModel).
// Thread: any (values).
#pragma once

#include <cstdint>
#include <string>

#include "vocalmidi/Types.h"

namespace vocalmidi {

// decode.py's DecoderConfig (frames are 5 ms hops). Thresholds are doubles: the Python
// reference compares float32 outputs against float64 thresholds.
struct NoteDecoderConfig {
    enum class Correction : uint8_t { Retrigger, Bend, None };
    double onsetOn = 0.5;
    double onsetOff = 0.3;
    double soundingOn = 0.5;
    double soundingOff = 0.35;
    int offFrames = 3;
    int onsetWaitFrames = 4;
    int soundingStartFrames = 8;
    int reattackFrames = 12;
    int correctionFrames = 8;
    int correctionPersist = 2;
    double correctionConf = 0.5;
    Correction correction = Correction::Retrigger;
    int changeFrames = 4;
    double changeConf = 0.0;  // a legato change also needs this confidence in the new note
    // A note-on waits (from the frame sounding is met) until the note's confidence reaches
    // startConf, or startWaitFrames have passed; 0 / 0 starts at once.
    double startConf = 0.0;
    int startWaitFrames = 0;
    // A held note's re-attack (onset edge) waits up to this many frames for the pitch: at a
    // sung note change the onset fires while the model still names the old pitch. Another
    // pitch (with changeConf) in the wait is a note change at once; else the same note
    // re-attacks when the wait ends; both stamped at the edge. 0 re-attacks at once.
    int reattackWaitFrames = 0;
    double velocityFloorDb = -60.0;

    // `base` (the model's tuned thresholds) moved by the user's sensitivity (0.5 = as is)
    // and correction choice.
    static NoteDecoderConfig fromParams(const Params& p, const NoteDecoderConfig& base);
    // decode.py's DecoderConfig.as_dict() as JSON (a trained model's `vocalmidi.decoder`
    // metadata); keys left out keep `base`. False with `error` on a bad document.
    static bool fromJson(const std::string& json, NoteDecoderConfig& out, std::string& error);
};

}  // namespace vocalmidi
