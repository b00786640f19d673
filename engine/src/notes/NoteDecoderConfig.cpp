#include "notes/NoteDecoderConfig.h"

#include <algorithm>

#include <nlohmann/json.hpp>

namespace vocalmidi {

NoteDecoderConfig NoteDecoderConfig::fromParams(const Params& p, const NoteDecoderConfig& base) {
    NoteDecoderConfig c = base;
    // Sensitivity 0.5 keeps the trained defaults exactly; 0 raises the onset and sounding
    // thresholds by 0.2 (fewer, surer notes), 1 lowers them by 0.2.
    const double s = std::clamp(static_cast<double>(p.sensitivity), 0.0, 1.0);
    if (s != 0.5) {
        const double d = (0.5 - s) * 0.4;
        c.onsetOn = std::clamp(c.onsetOn + d, 0.05, 0.99);
        c.onsetOff = std::clamp(c.onsetOff + d, 0.0, c.onsetOn);
        c.soundingOn = std::clamp(c.soundingOn + d, 0.05, 0.99);
        c.soundingOff = std::clamp(c.soundingOff + d, 0.0, c.soundingOn);
    }
    c.correction = p.earlyCorrection == EarlyCorrection::Bend ? Correction::Bend : Correction::Retrigger;
    return c;
}

bool NoteDecoderConfig::fromJson(const std::string& text, NoteDecoderConfig& c, std::string& error) {
    try {
        const auto j = nlohmann::json::parse(text);
        if (!j.is_object()) {
            error = "decoder settings must be a JSON object";
            return false;
        }
        // Each key read is crossed off `rest`; what is left is a rule this engine would
        // silently skip (a model tuned by a newer decoder): refuse it, as decode.py's
        // DecoderConfig.from_dict does.
        auto rest = j;
        auto num = [&](const char* key, double& v) {
            if (j.contains(key)) v = j.at(key).get<double>();
            rest.erase(key);
        };
        auto integer = [&](const char* key, int& v) {
            if (j.contains(key)) v = j.at(key).get<int>();
            rest.erase(key);
        };
        num("onset_on", c.onsetOn);
        num("onset_off", c.onsetOff);
        num("sounding_on", c.soundingOn);
        num("sounding_off", c.soundingOff);
        integer("off_frames", c.offFrames);
        integer("onset_wait_frames", c.onsetWaitFrames);
        integer("sounding_start_frames", c.soundingStartFrames);
        integer("reattack_frames", c.reattackFrames);
        integer("correction_frames", c.correctionFrames);
        integer("correction_persist", c.correctionPersist);
        num("correction_conf", c.correctionConf);
        integer("change_frames", c.changeFrames);
        num("change_conf", c.changeConf);
        num("start_conf", c.startConf);
        integer("start_wait_frames", c.startWaitFrames);
        integer("reattack_wait_frames", c.reattackWaitFrames);
        num("velocity_floor_db", c.velocityFloorDb);
        if (j.contains("correction")) {
            const std::string m = j.at("correction").get<std::string>();
            c.correction = m == "bend" ? Correction::Bend : m == "none" ? Correction::None : Correction::Retrigger;
            rest.erase("correction");
        }
        if (!rest.empty()) {
            error = "unknown decoder setting '" + rest.begin().key() + "' (a model for a newer engine?)";
            return false;
        }
    } catch (const std::exception& e) {
        error = std::string("bad decoder settings: ") + e.what();
        return false;
    }
    if (!(0.0 <= c.onsetOff && c.onsetOff <= c.onsetOn && c.onsetOn <= 1.0) ||
        !(0.0 <= c.soundingOff && c.soundingOff <= c.soundingOn && c.soundingOn <= 1.0) || c.velocityFloorDb >= 0.0) {
        error = "decoder settings out of range (need 0 <= off <= on <= 1 and a negative velocity floor)";
        return false;
    }
    return true;
}

}  // namespace vocalmidi
