// Inline SVG icons (stroke = currentColor). Decorative by default: the text next to them carries
// the meaning for screen readers.
import type { SVGProps } from 'react';
import type { LibraryType, SourceKind } from '../../core/types';
import type { StatusIcon as StatusIconName } from '../lib/status';

type IconProps = SVGProps<SVGSVGElement> & { size?: number };

function Svg({ size = 18, children, ...rest }: IconProps) {
  return (
    <svg
      width={size}
      height={size}
      viewBox="0 0 24 24"
      fill="none"
      stroke="currentColor"
      strokeWidth={2}
      strokeLinecap="round"
      strokeLinejoin="round"
      aria-hidden="true"
      focusable="false"
      {...rest}
    >
      {children}
    </svg>
  );
}

export const CheckCircleIcon = (p: IconProps) => (
  <Svg {...p}>
    <circle cx="12" cy="12" r="9" />
    <path d="m8 12.5 2.6 2.6L16 9.7" />
  </Svg>
);

export const WarningIcon = (p: IconProps) => (
  <Svg {...p}>
    <path d="M10.3 3.9 2.4 17.6A2 2 0 0 0 4.1 20.6h15.8a2 2 0 0 0 1.7-3L13.7 3.9a2 2 0 0 0-3.4 0Z" />
    <path d="M12 9.5v4" />
    <path d="M12 17h.01" />
  </Svg>
);

export const OfflineIcon = (p: IconProps) => (
  <Svg {...p}>
    <circle cx="12" cy="12" r="9" />
    <path d="m9 9 6 6M15 9l-6 6" />
  </Svg>
);

export const KeyIcon = (p: IconProps) => (
  <Svg {...p}>
    <circle cx="8" cy="15" r="4" />
    <path d="m10.9 12.1 8.6-8.6M16.5 6.5l2.5 2.5M14 9l2 2" />
  </Svg>
);

export const SyncAlertIcon = (p: IconProps) => (
  <Svg {...p}>
    <path d="M20 11a8 8 0 0 0-14.3-4.9L4 8" />
    <path d="M4 3.5V8h4.5" />
    <path d="M4 13a8 8 0 0 0 14.3 4.9L20 16" />
    <path d="M20 20.5V16h-4.5" />
    <path d="M12 9v3.2M12 15h.01" />
  </Svg>
);

export const SpinnerIcon = (p: IconProps) => (
  <Svg {...p} className={`spin ${p.className ?? ''}`}>
    <circle cx="12" cy="12" r="9" opacity="0.25" />
    <path d="M21 12a9 9 0 0 0-9-9" />
  </Svg>
);

export function StatusGlyph({ icon, size }: { icon: StatusIconName; size?: number }) {
  switch (icon) {
    case 'ok':
      return <CheckCircleIcon size={size} />;
    case 'warn':
      return <WarningIcon size={size} />;
    case 'spinner':
      return <SpinnerIcon size={size} />;
    case 'offline':
      return <OfflineIcon size={size} />;
    case 'key':
      return <KeyIcon size={size} />;
    case 'sync':
      return <SyncAlertIcon size={size} />;
  }
}

export const PlexIcon = ({ size = 20 }: { size?: number }) => (
  <svg width={size} height={size} viewBox="0 0 24 24" aria-hidden="true" focusable="false">
    <rect width="24" height="24" rx="6" fill="#1f1f1f" />
    <path d="M8.2 4.5h4.3l4.6 7.5-4.6 7.5H8.2l4.6-7.5z" fill="#e5a00d" />
  </svg>
);

export const JellyfinIcon = ({ size = 20 }: { size?: number }) => (
  <svg width={size} height={size} viewBox="0 0 24 24" aria-hidden="true" focusable="false">
    <defs>
      <linearGradient id="jf-grad" x1="0" y1="0" x2="1" y2="1">
        <stop offset="0" stopColor="#aa5cc3" />
        <stop offset="1" stopColor="#00a4dc" />
      </linearGradient>
    </defs>
    <rect width="24" height="24" rx="6" fill="#101820" />
    <path d="M12 4.2c-1.3 0-6.4 9.3-5.8 10.6.7 1.3 11 1.3 11.6 0 .6-1.3-4.5-10.6-5.8-10.6Zm0 3.9c.9 0 3.7 5.3 3.3 6-.4.7-6.2.7-6.6 0-.4-.7 2.4-6 3.3-6Z" fill="url(#jf-grad)" fillRule="evenodd" />
    <path d="M6 17.4c.9 1.2 11.1 1.2 12 0" stroke="url(#jf-grad)" strokeWidth="1.4" strokeLinecap="round" fill="none" />
  </svg>
);

export function SourceKindIcon({ kind, size }: { kind: SourceKind; size?: number }) {
  return kind === 'plex' ? <PlexIcon size={size} /> : <JellyfinIcon size={size} />;
}

export function LibraryIcon({ type, size = 16 }: { type: LibraryType; size?: number }) {
  switch (type) {
    case 'movie':
      return (
        <Svg size={size}>
          <rect x="3" y="4" width="18" height="16" rx="2" />
          <path d="M7 4v16M17 4v16M3 9h4M3 15h4M17 9h4M17 15h4" />
        </Svg>
      );
    case 'show':
      return (
        <Svg size={size}>
          <rect x="3" y="6" width="18" height="13" rx="2" />
          <path d="m8 2 4 4 4-4" />
        </Svg>
      );
    case 'music':
      return (
        <Svg size={size}>
          <path d="M9 18V5l11-2v13" />
          <circle cx="6" cy="18" r="3" />
          <circle cx="17" cy="16" r="3" />
        </Svg>
      );
    case 'photo':
      return (
        <Svg size={size}>
          <rect x="3" y="4" width="18" height="16" rx="2" />
          <circle cx="9" cy="10" r="2" />
          <path d="m21 16-5-5L5 20" />
        </Svg>
      );
    case 'other':
    default: // also a type a newer server may send
      return (
        <Svg size={size}>
          <path d="M3 7a2 2 0 0 1 2-2h4l2 2h8a2 2 0 0 1 2 2v8a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2z" />
        </Svg>
      );
  }
}

export const MenuIcon = (p: IconProps) => (
  <Svg {...p}>
    <path d="M4 6h16M4 12h16M4 18h16" />
  </Svg>
);

export const CloseIcon = (p: IconProps) => (
  <Svg {...p}>
    <path d="M6 6l12 12M18 6 6 18" />
  </Svg>
);

export const PlusIcon = (p: IconProps) => (
  <Svg {...p}>
    <path d="M12 5v14M5 12h14" />
  </Svg>
);

export const RefreshIcon = (p: IconProps) => (
  <Svg {...p}>
    <path d="M20 11a8 8 0 0 0-14.3-4.9L4 8" />
    <path d="M4 3.5V8h4.5" />
    <path d="M4 13a8 8 0 0 0 14.3 4.9L20 16" />
    <path d="M20 20.5V16h-4.5" />
  </Svg>
);

export const ServerIcon = (p: IconProps) => (
  <Svg {...p}>
    <rect x="3" y="4" width="18" height="7" rx="2" />
    <rect x="3" y="13" width="18" height="7" rx="2" />
    <path d="M7 7.5h.01M7 16.5h.01" />
  </Svg>
);

export const BellIcon = (p: IconProps) => (
  <Svg {...p}>
    <path d="M6 8a6 6 0 0 1 12 0c0 7 3 9 3 9H3s3-2 3-9" />
    <path d="M10.3 21a1.94 1.94 0 0 0 3.4 0" />
  </Svg>
);

export const FlaskIcon = (p: IconProps) => (
  <Svg {...p}>
    <path d="M9 3h6M10 3v6L4.5 18.5A1.7 1.7 0 0 0 6 21h12a1.7 1.7 0 0 0 1.5-2.5L14 9V3" />
    <path d="M7 15h10" />
  </Svg>
);

export const ExternalIcon = (p: IconProps) => (
  <Svg {...p}>
    <path d="M14 4h6v6M20 4l-9 9" />
    <path d="M19 14v5a1 1 0 0 1-1 1H5a1 1 0 0 1-1-1V6a1 1 0 0 1 1-1h5" />
  </Svg>
);

export const TrashIcon = (p: IconProps) => (
  <Svg {...p}>
    <path d="M4 7h16M9 7V4h6v3M6 7l1 13h10l1-13" />
  </Svg>
);

export const PencilIcon = (p: IconProps) => (
  <Svg {...p}>
    <path d="M4 20h4L19 9l-4-4L4 16z" />
  </Svg>
);

export const ArrowLeftIcon = (p: IconProps) => (
  <Svg {...p}>
    <path d="M19 12H5M11 6l-6 6 6 6" />
  </Svg>
);

export function MarqueeLogo({ size = 28 }: { size?: number }) {
  return (
    <svg width={size} height={size} viewBox="0 0 32 32" aria-hidden="true" focusable="false">
      <rect width="32" height="32" rx="8" fill="var(--logo-bg)" />
      <path d="M7 22V9l9 8 9-8v13" fill="none" stroke="#f5b94a" strokeWidth="3" strokeLinecap="round" strokeLinejoin="round" />
      <g fill="#f5b94a">
        <circle cx="7" cy="26.5" r="1.3" />
        <circle cx="11.5" cy="26.5" r="1.3" />
        <circle cx="16" cy="26.5" r="1.3" />
        <circle cx="20.5" cy="26.5" r="1.3" />
        <circle cx="25" cy="26.5" r="1.3" />
      </g>
    </svg>
  );
}

export const SearchIcon = (p: IconProps) => (
  <Svg {...p}>
    <circle cx="11" cy="11" r="7" />
    <path d="m20 20-3.5-3.5" />
  </Svg>
);

export const PlayIcon = (p: IconProps) => (
  <Svg {...p}>
    <path d="M7 4.5v15l12.5-7.5z" fill="currentColor" />
  </Svg>
);

export const HomeIcon = (p: IconProps) => (
  <Svg {...p}>
    <path d="M3 10.5 12 3l9 7.5M5 9v11h5v-6h4v6h5V9" />
  </Svg>
);
