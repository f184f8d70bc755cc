"""Head pose (yaw, pitch, roll in degrees) from the 68 iBUG face landmarks.

A mean 3D face is fitted to the landmarks by perspective-n-point with a nominal phone camera
(focal length = image width, principal point at the centre): the rotation that best projects
the model onto the points is the head's pose. Only points that a facial expression does not
move take part (the nose, the eye corners, the jaw line by the ears), so opening the mouth or
closing the eyes does not read as a nod. The absolute angles depend on the camera and the
person; the liveness check uses their change within one session.

`MEAN_FACE` is the mean shape of the 68-point markup in 3D, in millimetre-like units, as
published with the OpenFace toolkit (Baltrusaitis et al.) and reproduced by most landmark
head-pose examples; the table below has z towards the viewer, and it is turned into the
camera's right-handed axes (x right, y down, z away, the nose tip nearest) once.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

_TABLE = np.array(
    [
        [-73.393523, -29.801432, -47.667532], [-72.775014, -10.949766, -45.909403],
        [-70.533638, 7.929818, -44.842580], [-66.850058, 26.074280, -43.141114],
        [-59.790187, 42.564390, -38.635298], [-48.368973, 56.481080, -30.750622],
        [-34.121101, 67.246992, -18.456453], [-17.875411, 75.056892, -3.609035],
        [0.098749, 77.061286, 0.881698], [17.477031, 74.758448, -5.181201],
        [32.648966, 66.929021, -19.176563], [46.372358, 56.311389, -30.770570],
        [57.343480, 42.419126, -37.628629], [64.388482, 25.455880, -40.886309],
        [68.212038, 6.990805, -42.281449], [70.486405, -11.666193, -44.142567],
        [71.375822, -30.365191, -47.140426], [-61.119406, -49.361602, -14.254422],
        [-51.287588, -58.769795, -7.268147], [-37.804800, -61.996155, -0.442051],
        [-24.022754, -61.033399, 6.606501], [-11.635713, -56.686759, 11.967398],
        [12.056636, -57.391033, 12.051204], [25.106256, -61.902186, 7.315098],
        [38.338588, -62.777713, 1.022953], [51.191007, -59.302347, -5.349435],
        [60.053851, -50.190255, -11.615746], [0.653940, -42.193790, 13.380835],
        [0.804809, -30.993721, 21.150853], [0.992204, -19.944596, 29.284036],
        [1.226783, -8.414541, 36.948060], [-14.772472, 2.598255, 20.132003],
        [-7.180239, 4.751589, 23.536684], [0.555920, 6.562900, 25.944448],
        [8.272499, 4.661005, 23.695741], [15.214351, 2.643046, 20.858157],
        [-46.047290, -37.471411, -7.037989], [-37.674688, -42.730510, -3.021217],
        [-27.883856, -42.711517, -1.353629], [-19.648268, -36.754742, 0.111088],
        [-28.272965, -35.134493, 0.147273], [-38.082418, -34.919043, -1.476612],
        [19.265868, -37.032306, 0.665746], [27.894191, -43.342445, -0.247660],
        [37.437529, -43.110822, -1.696435], [45.170805, -38.086515, -4.894163],
        [38.196454, -35.532024, -0.282961], [28.764989, -35.484289, 1.172675],
        [-28.916267, 28.612716, 2.240310], [-17.533194, 22.172187, 15.934335],
        [-6.684590, 19.029051, 22.611355], [0.381001, 20.721118, 23.748437],
        [8.375443, 19.035460, 22.721995], [18.876618, 22.394109, 15.610679],
        [28.794412, 28.079924, 3.217393], [19.057574, 36.298248, 14.987997],
        [8.956375, 39.634575, 22.554245], [0.381549, 40.395647, 23.591626],
        [-7.428895, 39.836405, 22.406106], [-18.160634, 36.677899, 15.121907],
        [-24.377490, 28.677771, 4.785684], [-6.897633, 25.475976, 20.893742],
        [0.340663, 26.014269, 22.220479], [8.444722, 25.326198, 21.025520],
        [24.474473, 28.323008, 5.712776], [8.449166, 30.596216, 20.671489],
        [0.205322, 31.408738, 21.903670], [-7.198266, 30.844876, 20.328022],
    ]
)  # fmt: skip
MEAN_FACE = _TABLE * np.array([1.0, 1.0, -1.0])
# Jaw line by the ears (0, 1, 15, 16), nose (27-35), eye corners (36, 39, 42, 45): points that
# a wide-open mouth does not move (the jaw line below the ears follows the chin down).
RIGID = np.array([0, 1, 15, 16, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 39, 42, 45])


@dataclass(frozen=True)
class Pose:
    yaw: float  # the face turned towards the image's right, degrees
    pitch: float  # the face tipped chin down
    roll: float  # the face tilted clockwise on screen


def camera(width: float, height: float) -> np.ndarray:
    return np.array([[width, 0, width / 2], [0, width, height / 2], [0, 0, 1]], np.float64)


def fit(landmarks: np.ndarray, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Rotation (Rodrigues vector) and translation of MEAN_FACE that project onto the rigid
    landmarks in an image of `size` (width, height)."""
    ok, rvec, tvec = cv2.solvePnP(
        MEAN_FACE[RIGID],
        landmarks[RIGID].astype(np.float64),
        camera(*size),
        None,
        flags=cv2.SOLVEPNP_EPNP,
    )
    if ok:
        ok, rvec, tvec = cv2.solvePnP(
            MEAN_FACE[RIGID],
            landmarks[RIGID].astype(np.float64),
            camera(*size),
            None,
            rvec,
            tvec,
            useExtrinsicGuess=True,
            flags=cv2.SOLVEPNP_ITERATIVE,
        )
    if not ok:
        raise ValueError("head pose did not converge")
    return rvec, tvec


def head_pose(landmarks: np.ndarray, size: tuple[int, int]) -> Pose:
    rvec, _ = fit(landmarks, size)
    rotation, _ = cv2.Rodrigues(rvec)
    # where the face looks: the model's "towards the viewer" axis, in camera axes
    forward = rotation @ np.array([0.0, 0.0, -1.0])
    yaw = np.degrees(np.arctan2(forward[0], -forward[2]))
    pitch = np.degrees(np.arctan2(forward[1], -forward[2]))
    roll = np.degrees(np.arctan2(rotation[1, 0], rotation[0, 0]))
    return Pose(yaw=float(yaw), pitch=float(pitch), roll=float(roll))


def turn(yaw: float, pitch: float) -> np.ndarray:
    """Rotation (camera axes) that turns a face by `yaw` towards the image right and tips it
    by `pitch` chin down, both in degrees."""
    y, p = np.radians(yaw), -np.radians(pitch)
    about_y = np.array([[np.cos(y), 0, -np.sin(y)], [0, 1, 0], [np.sin(y), 0, np.cos(y)]])
    about_x = np.array([[1, 0, 0], [0, np.cos(p), np.sin(p)], [0, -np.sin(p), np.cos(p)]])
    return about_x @ about_y


def rotated_landmarks(
    landmarks: np.ndarray, size: tuple[int, int], yaw: float, pitch: float
) -> np.ndarray:
    """Where the 68 landmarks move when the head turns by `yaw` and nods by `pitch` degrees
    about its own centre: the mean face, fitted to these landmarks, is turned and projected,
    and each landmark is moved by the displacement of its model point."""
    rvec, tvec = fit(landmarks, size)
    k = camera(*size)
    before, _ = cv2.projectPoints(MEAN_FACE, rvec, tvec, k, None)
    turned = cv2.Rodrigues(turn(yaw, pitch) @ cv2.Rodrigues(rvec)[0])[0]
    after, _ = cv2.projectPoints(MEAN_FACE, turned, tvec, k, None)
    return landmarks + (after - before).reshape(-1, 2)
